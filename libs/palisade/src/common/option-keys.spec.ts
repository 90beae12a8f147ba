import { describe, expect, it } from 'vitest';
import { assertKnownKeys, closestName, optionPath } from './option-keys.js';

describe('closestName', () => {
  it.each([
    ['heirarchy', ['hierarchy', 'known'], 'hierarchy'], // adjacent swap: one edit
    ['storrage', ['throttlers', 'storage'], 'storage'],
    ['maxage', ['maxAge', 'preload'], 'maxAge'], // case is ignored
    ['url', ['uri', 'issuer'], 'uri'],
    ['iss', ['uri', 'issuer'], 'issuer'], // contained in a longer name
    ['force', ['enforce', 'hosts'], 'enforce'],
    ['mirrorRevocation', ['redis', 'mirrorRevocations'], 'mirrorRevocations'],
  ])('%s among %j → %s', (name, known, expected) => {
    expect(closestName(name, known)).toBe(expected);
  });

  it('prefers a close spelling to a contained name, and the first known name on a tie', () => {
    expect(closestName('hosts', ['hostsList', 'host'])).toBe('host');
    expect(closestName('ab', ['ac', 'ad'])).toBe('ac');
  });

  it('suggests nothing when no name is close', () => {
    expect(closestName('jwt', ['auth', 'roles', 'throttle'])).toBeUndefined();
    expect(closestName('expiresIn', ['secret', 'issuer', 'audience'])).toBeUndefined();
    expect(closestName('xy', ['ab'])).toBeUndefined(); // two edits in a two-letter name is not close
  });
});

describe('optionPath', () => {
  it('joins identifiers with dots and quotes other keys', () => {
    expect(optionPath('', 'auth')).toBe('auth');
    expect(optionPath('roles', 'hierarchy')).toBe('roles.hierarchy');
    expect(optionPath('headers.paths', '/docs')).toBe("headers.paths['/docs']");
  });
});

describe('assertKnownKeys', () => {
  it('accepts known keys and an empty object', () => {
    expect(() => assertKnownKeys({ hierarchy: {}, known: [] }, ['hierarchy', 'known'], 'roles')).not.toThrow();
    expect(() => assertKnownKeys({}, ['hierarchy'], 'roles')).not.toThrow();
  });

  it('names the full path, the closest known key and every known key', () => {
    expect(() => assertKnownKeys({ heirarchy: {} }, ['hierarchy', 'known'], 'roles')).toThrow(
      'PalisadeModule: unknown option roles.heirarchy; did you mean roles.hierarchy? Known options of roles: hierarchy, known.',
    );
  });

  it('lists the known keys when nothing is close, and reads well at the top level', () => {
    expect(() => assertKnownKeys({ jwt: {} }, ['auth', 'roles'], '')).toThrow('PalisadeModule: unknown option jwt. Known options: auth, roles.');
  });

  it('takes the component named in the message', () => {
    expect(() => assertKnownKeys({ origin: 'x' }, ['origins'], '', 'strictCors')).toThrow(
      'strictCors: unknown option origin; did you mean origins? Known options: origins.',
    );
  });

  it('ignores inherited properties but refuses own ones, whatever their value', () => {
    const withProto = Object.create({ inherited: 1 }) as object;
    expect(() => assertKnownKeys(withProto, ['a'], 'x')).not.toThrow();
    expect(() => assertKnownKeys({ b: undefined }, ['a'], 'x')).toThrow('PalisadeModule: unknown option x.b. Known options of x: a.');
  });
});
