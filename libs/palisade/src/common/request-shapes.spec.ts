import { describe, expect, it } from 'vitest';
import { ownKeysOf, ShapeLearner } from './request-shapes.js';

/** A stand-in for Node's prototype chain and a framework prototype re-parented over it. */
class NodeObject {
  readonly createdBy = 'node';
}
Object.defineProperty(NodeObject.prototype, 'statusCode', { value: 200, writable: true, enumerable: true, configurable: true });
Object.defineProperty(NodeObject.prototype, 'frozenField', { value: 1, writable: false, configurable: true });
Object.defineProperty(NodeObject.prototype, 'nodeGetter', { get: () => 'node', configurable: true });
const FRAMEWORK = Object.create(NodeObject.prototype, {
  query: { get: () => 'framework', configurable: true },
  get: { value: () => 'method', writable: true, configurable: true },
}) as object;

const SYMBOL = Symbol('router.tracing.matchedRoute');

/** One request's life: created by Node, then re-parented and filled by the framework. */
function frameworkRequest(learner: ShapeLearner, fill: (o: Record<string | symbol, unknown>) => void): Record<string | symbol, unknown> {
  const object = new NodeObject() as unknown as Record<string | symbol, unknown>;
  learner.declare(object);
  const before = ownKeysOf(object);
  Object.setPrototypeOf(object, FRAMEWORK);
  fill(object);
  learner.observe(object, before);
  return object;
}

const EXPRESS_LIKE = (o: Record<string | symbol, unknown>): void => {
  o.baseUrl = '';
  o.params = {};
  o[SYMBOL] = '/reports';
  o.statusCode = 201;
};

describe('ShapeLearner', () => {
  it('learns the fields added after the listener, strings in the order they were added, then symbols', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    frameworkRequest(learner, EXPRESS_LIKE);
    expect(learner.declared).toEqual(['baseUrl', 'params', 'statusCode', SYMBOL]);
  });

  it('declares them on the next object before the framework sees it, each with the value it read', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    frameworkRequest(learner, EXPRESS_LIKE);
    const next = new NodeObject() as unknown as Record<string | symbol, unknown>;
    learner.declare(next);
    expect(Reflect.ownKeys(next)).toEqual(['createdBy', 'baseUrl', 'params', 'statusCode', SYMBOL]);
    expect(next.baseUrl).toBeUndefined();
    expect(next[SYMBOL]).toBeUndefined();
    // A data field of the Node prototype keeps the value it inherited.
    expect(next.statusCode).toBe(200);
  });

  it('never declares a field a framework prototype defines (a getter or a method), an accessor or a read-only field', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    frameworkRequest(learner, (o) => {
      Object.defineProperty(o, 'query', { value: 'own', configurable: true, writable: true });
      o.get = () => 'own';
      Object.defineProperty(o, 'nodeGetter', { value: 'own', configurable: true });
      Object.defineProperty(o, 'frozenField', { value: 2, configurable: true });
      o.added = true;
    });
    expect(learner.declared).toEqual(['added']);
    const next = new NodeObject() as unknown as Record<string | symbol, unknown>;
    learner.declare(next);
    Object.setPrototypeOf(next, FRAMEWORK);
    expect(next.query).toBe('framework');
    expect((next.get as () => string)()).toBe('method');
  });

  it('leaves alone a method a middleware overrides per object, and anything of Object.prototype', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    Object.defineProperty(NodeObject.prototype, 'writeHead', { value: () => 'node', writable: true, configurable: true });
    frameworkRequest(learner, (o) => {
      o.writeHead = () => 'wrapped';
      o.toString = () => 'own';
      o.added = true;
    });
    expect(learner.declared).toEqual(['added']);
  });

  it('keeps a value the object already had when it is declared again', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    frameworkRequest(learner, (o) => {
      o.tenant = 't-1';
    });
    const next = new NodeObject() as unknown as Record<string | symbol, unknown>;
    next.tenant = 't-2';
    learner.declare(next);
    expect(next.tenant).toBe('t-2');
  });

  it('stops learning after the first 64 objects', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    for (let i = 0; i < 64; i++) frameworkRequest(learner, () => undefined);
    expect(learner.learning).toBe(false);
    frameworkRequest(learner, (o) => {
      o.late = 1;
    });
    expect(learner.declared).toEqual([]);
  });

  it('declares at most 32 fields', () => {
    const learner = new ShapeLearner(NodeObject.prototype);
    frameworkRequest(learner, (o) => {
      for (let i = 0; i < 40; i++) o[`field${i}`] = i;
    });
    expect(learner.declared).toHaveLength(32);
    expect(learner.learning).toBe(false);
  });
});
