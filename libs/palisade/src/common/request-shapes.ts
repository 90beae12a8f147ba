import { IncomingMessage, ServerResponse } from 'node:http';

/** How many requests the fields are learned from (the first ones the server receives). */
const LEARNING_REQUESTS = 64;
/** At most this many fields are declared per object. */
const MAX_FIELDS = 32;

type Key = string | symbol;
type Fields = Record<Key, unknown>;

/** The own keys of `target` now (taken when Palisade's listener is done with it). @internal */
export function ownKeysOf(target: object): ReadonlySet<Key> {
  return new Set<Key>(Reflect.ownKeys(target));
}

/**
 * Learns the own fields the framework and the application add to objects of one kind (the Node.js
 * request, or the response) after the `stableRequestShapes` server listener ran — any field seen on one of the
 * first 64 objects, route-specific ones included — and declares them on the next objects, in a
 * fixed order, before the framework sees them.
 *
 * Why: Express re-parents every request and response (`Object.setPrototypeOf`). From then on V8
 * gives each field added to that object a hidden class of the object's own, so no two requests
 * share one: every later field access — by Express, its router, body-parser, Nest and Palisade — is
 * a look-up V8 cannot cache, and every request leaves new hidden classes to collect. Fields that
 * already exist when the object is re-parented keep the objects on one shared hidden class. On the
 * benchmark machine (Node.js 20) this cut bare Express + Nest's CPU per request by about two thirds.
 *
 * A field is declared with the value it reads at that moment, so every read returns what it would
 * have returned: `undefined` for a field no prototype defines, the inherited value for a data field
 * of Node's own prototypes (`statusCode` = 200). Fields the framework's prototypes define (Express's
 * `req.query` getter, `req.get()`), methods, accessors, read-only fields and anything of
 * `Object.prototype` are never declared. What differs is that such a field is an own property
 * earlier: `'body' in req` is true before body-parser ran (it then sets `req.body = undefined`
 * itself), and `Object.keys(req)`, spreads and `util.inspect` list it. That is why it only runs
 * with `stableRequestShapes: true` (off by default).
 * @internal
 */
export class ShapeLearner {
  private readonly fields: Key[] = [];
  private readonly known = new Set<Key>();
  private observed = 0;

  /** @param nodePrototype The prototype Node.js gives the objects (whose data fields may be copied). */
  constructor(private readonly nodePrototype: object) {}

  /** The fields declared on every object, in order. */
  get declared(): readonly Key[] {
    return this.fields;
  }

  /** True while objects are still observed. */
  get learning(): boolean {
    return this.observed < LEARNING_REQUESTS && this.fields.length < MAX_FIELDS;
  }

  /** Declares the learned fields on a new object (with the value each reads now). */
  declare(target: object): void {
    const object = target as Fields;
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) {
      const key = fields[i] as Key;
      // Not a no-op: a field read through the prototype chain becomes an own field with that value.
      // oxlint-disable-next-line no-self-assign
      object[key] = object[key];
    }
  }

  /** Learns, from an object the framework is done with, the fields added since `before`. */
  observe(target: object, before: ReadonlySet<Key>): void {
    if (!this.learning) return;
    this.observed++;
    for (const key of Reflect.ownKeys(target)) {
      if (before.has(key) || this.known.has(key)) continue;
      this.known.add(key);
      if (this.fields.length < MAX_FIELDS && this.declarable(target, key)) this.fields.push(key);
    }
  }

  /**
   * True when declaring `key` early cannot change what any read returns: no prototype of the object
   * (as the framework left it) defines it, or Node's own prototype chain defines it as a writable data
   * field the framework's prototypes do not shadow.
   */
  private declarable(target: object, key: Key): boolean {
    for (let proto: object | null = Object.getPrototypeOf(target) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (descriptor === undefined) continue;
      // Methods are left alone (an own copy would hide a later patch of the prototype, as APM
      // agents do), and so is anything of Object.prototype.
      const nodeOwned = proto !== Object.prototype && (proto === this.nodePrototype || Object.prototype.isPrototypeOf.call(proto, this.nodePrototype));
      return nodeOwned && 'value' in descriptor && descriptor.writable === true && typeof descriptor.value !== 'function';
    }
    return true;
  }
}

/**
 * Stable hidden classes for Express's requests and responses (see the `stableRequestShapes` option,
 * an opt-in, which is how applications get this: a server `request` listener then calls `declare`
 * on every request). It changes what `in` and `hasOwnProperty` answer on requests (see
 * {@link ShapeLearner}).
 * Exported for setups that want the same effect without Palisade's listener, such as the
 * benchmark's reference stacks.
 *
 * @example
 * const shapes = new ExpressObjectShapes();
 * app.getHttpServer().prependListener('request', (req, res) => shapes.declare(req, res));
 */
export class ExpressObjectShapes {
  private readonly request = new ShapeLearner(IncomingMessage.prototype);
  private readonly response = new ShapeLearner(ServerResponse.prototype);

  /**
   * Declares the learned fields on a request and its response; call it before Express sees them (a
   * `request` listener prepended to the HTTP server). While learning (the first 64 requests), it
   * also watches the response's `close` to learn what was added.
   */
  declare(request: IncomingMessage, response: ServerResponse): void {
    this.request.declare(request);
    this.response.declare(response);
    if (this.request.learning || this.response.learning) {
      const requestBefore = ownKeysOf(request);
      const responseBefore = ownKeysOf(response);
      response.once('close', () => {
        try {
          this.request.observe(request, requestBefore);
          this.response.observe(response, responseBefore);
        } catch {
          // Learning is an optimisation: never let it disturb a response.
        }
      });
    }
  }
}

/**
 * Injection token of the `stableRequestShapes` option, validated at startup: `true` when Express's
 * per-request fields are declared before Express re-parents the objects (see {@link ExpressObjectShapes}).
 * @internal
 */
export const STABLE_REQUEST_SHAPES = Symbol('PALISADE_STABLE_REQUEST_SHAPES');
