import { describe, expect, it } from 'vitest';
import { decodeBasicCredential } from './basic.strategy.js';

const encode = (userPass: string | Buffer): string => Buffer.from(userPass).toString('base64');

describe('decodeBasicCredential', () => {
  it('decodes user-id and password', () => {
    expect(decodeBasicCredential(encode('alice:alice-password'))).toEqual({ userId: 'alice', password: 'alice-password' });
  });

  it('splits at the first colon: the password may contain colons (RFC 7617 §2)', () => {
    expect(decodeBasicCredential(encode('carol:pa:ss:word'))).toEqual({ userId: 'carol', password: 'pa:ss:word' });
  });

  it('accepts an empty password', () => {
    expect(decodeBasicCredential(encode('alice:'))).toEqual({ userId: 'alice', password: '' });
  });

  it('decodes UTF-8 user ids and passwords (charset="UTF-8")', () => {
    expect(decodeBasicCredential(encode('zoë:mot-de-passe-é'))).toEqual({ userId: 'zoë', password: 'mot-de-passe-é' });
  });

  it('accepts each base64 padding form', () => {
    expect(decodeBasicCredential(encode('ab:c'))).toEqual({ userId: 'ab', password: 'c' }); // no padding
    expect(decodeBasicCredential(encode('ab:cd'))).toEqual({ userId: 'ab', password: 'cd' }); // '='
    expect(decodeBasicCredential(encode('ab:cde'))).toEqual({ userId: 'ab', password: 'cde' }); // '=='
  });

  it('refuses an empty credential', () => {
    expect(decodeBasicCredential('')).toBeUndefined();
  });

  it('refuses base64 of the wrong length', () => {
    expect(decodeBasicCredential(encode('alice:secret').slice(0, -1))).toBeUndefined();
  });

  it('refuses base64url characters and misplaced padding', () => {
    expect(decodeBasicCredential('YWxp-2U6c2_jcmV0')).toBeUndefined();
    expect(decodeBasicCredential('YW=xpY2U6c2VjcmV0')).toBeUndefined();
  });

  it('refuses a credential without a colon', () => {
    expect(decodeBasicCredential(encode('alicesecret'))).toBeUndefined();
  });

  it('refuses an empty user id', () => {
    expect(decodeBasicCredential(encode(':secret'))).toBeUndefined();
  });

  it('refuses control characters in the user id or the password', () => {
    expect(decodeBasicCredential(encode('ali\u0000ce:secret'))).toBeUndefined();
    expect(decodeBasicCredential(encode('alice:sec\nret'))).toBeUndefined();
    expect(decodeBasicCredential(encode('alice:secret\u007f'))).toBeUndefined();
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(decodeBasicCredential(encode(Buffer.from([0x61, 0xe9, 0x3a, 0x70])))).toBeUndefined(); // "a\xe9:p" in Latin-1
  });

  it('refuses a credential over the 4 KiB limit (4102 bytes decoded)', () => {
    expect(decodeBasicCredential(encode(`alice:${'p'.repeat(4096)}`))).toBeUndefined();
  });

  it('accepts a credential of 4096 bytes decoded', () => {
    expect(decodeBasicCredential(encode(`alice:${'p'.repeat(4090)}`))).toEqual({ userId: 'alice', password: 'p'.repeat(4090) });
  });
});
