import type { IncomingMessage } from 'node:http';
import { Controller, Get, Req } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, type Principal } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, outcome, unauthorized, useApp } from '../support/auth.js';
import { rawGet } from '../support/raw-http.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

@Controller()
class ProbeController {
  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }

  /** How many Authorization headers the server received, to prove a raw request really repeats it. */
  @Get('received') @Public() received(@Req() request: { raw?: IncomingMessage; rawHeaders?: string[] }) {
    const raw = request.raw?.rawHeaders ?? request.rawHeaders ?? [];
    return { authorization: raw.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'authorization').length };
  }
}

/** The route accepts jwt then basic: each 401 carries both challenges, in that order. */
const MISSING = `${CHALLENGE.bearer}, ${CHALLENGE.basic}`;
const MALFORMED = `${CHALLENGE.bearerMalformed}, ${CHALLENGE.basic}`;
const TOKEN_INVALID = `${CHALLENGE.bearerInvalid}, ${CHALLENGE.basic}`;
const BASIC_REJECTED = `${CHALLENGE.bearer}, ${CHALLENGE.basic}`;

const basic = (userPass: string | Buffer): string => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe.each(ADAPTERS)('malformed Authorization headers on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET }, basic: { validate: (user, password) => (user === 'alice' && password === 'secret' ? { id: 'alice' } : null) } },
        global: true,
      }),
    ],
    controllers: [ProbeController],
  }));
  const withAuthorization = (value: string) => ctx.http.get('/me').set('Authorization', value);

  describe('Bearer syntax', () => {
    it("rejects 'Bearer' alone as malformed (invalid_request)", async () => {
      expect(outcome(await withAuthorization('Bearer'))).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it("rejects 'Bearer ' with a trailing space as malformed", async () => {
      expect(outcome(await rawGet(ctx.app, '/me', ['Authorization: Bearer ']))).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it("rejects 'Bearer a b' (two credentials) as malformed", async () => {
      expect(outcome(await withAuthorization('Bearer a b'))).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it('rejects a valid token followed by junk as malformed', async () => {
      expect(outcome(await withAuthorization(`Bearer ${signToken()} junk`))).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it("accepts the scheme in lower case ('bearer')", async () => {
      const res = await withAuthorization(`bearer ${signToken()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'user-1', scheme: 'jwt' });
    });

    it("accepts the scheme in upper case ('BEARER')", async () => {
      const res = await withAuthorization(`BEARER ${signToken()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'user-1', scheme: 'jwt' });
    });

    it('accepts several spaces between scheme and token (RFC 9110: 1*SP)', async () => {
      const res = await withAuthorization(`Bearer    ${signToken()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'user-1', scheme: 'jwt' });
    });

    it('rejects non-ASCII bytes in the header as malformed', async () => {
      const res = await rawGet(ctx.app, '/me', [`Authorization: Bearer ${signToken()}\xe9\xff`]);
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it('rejects characters outside token68 as malformed', async () => {
      expect(outcome(await withAuthorization('Bearer abc$def.ghi%jkl.mno'))).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it("rejects a token with '+' and '/' (token68, but not base64url) as an invalid token", async () => {
      expect(outcome(await withAuthorization('Bearer eyJ+bGc/.eyJ+dWI/.c2ln+/'))).toEqual(unauthorized(MESSAGE.invalid, TOKEN_INVALID));
    });

    it('rejects a three-part token whose segments are not JSON as an invalid token', async () => {
      expect(outcome(await withAuthorization('Bearer abc.def.ghi'))).toEqual(unauthorized(MESSAGE.invalid, TOKEN_INVALID));
    });

    it("rejects a token made only of dots ('...') as an invalid token", async () => {
      expect(outcome(await withAuthorization('Bearer ...'))).toEqual(unauthorized(MESSAGE.invalid, TOKEN_INVALID));
    });
  });

  describe('repeated and oversized headers', () => {
    it('really delivers two Authorization headers when the raw request repeats it', async () => {
      const token = signToken();
      const res = await rawGet(ctx.app, '/received', [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ authorization: 2 });
    });

    it('rejects a repeated Authorization header, even when both copies are valid', async () => {
      const token = signToken();
      const res = await rawGet(ctx.app, '/me', [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]);
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, MALFORMED));
    });

    it('answers a 60 KB Authorization header with 401 or 431, never a 5xx', async () => {
      const res = await rawGet(ctx.app, '/me', [`Authorization: Bearer ${'a'.repeat(60 * 1024)}`]);
      expect([401, 431]).toContain(res.status);
    });
  });

  describe('other schemes', () => {
    it("treats an unknown scheme ('Token abc') as no credential: 401 'Authentication required'", async () => {
      expect(outcome(await withAuthorization('Token abc'))).toEqual(unauthorized(MESSAGE.required, MISSING));
    });

    it('accepts valid Basic credentials (control case)', async () => {
      const res = await withAuthorization(basic('alice:secret'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'alice', scheme: 'basic' });
    });

    it('rejects Basic credentials that are not valid base64', async () => {
      expect(outcome(await withAuthorization('Basic YWxpY2U6c2VjcmV0Z'))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
    });

    it("blames a malformed Basic header on Basic alone: 'Basic ====' gets no Bearer invalid_request", async () => {
      expect(outcome(await withAuthorization('Basic ===='))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
      expect(outcome(await withAuthorization('Basic a b'))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
    });

    it('rejects Basic credentials without a colon', async () => {
      expect(outcome(await withAuthorization(basic('alicesecret')))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
    });

    it('rejects Basic credentials containing control characters', async () => {
      expect(outcome(await withAuthorization(basic('alice:sec\u0000ret')))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
      expect(outcome(await withAuthorization(basic('ali\u0001ce:secret')))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
    });

    it('rejects Basic credentials that are not UTF-8', async () => {
      const latin1 = Buffer.from([0x61, 0x6c, 0xe9, 0x3a, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74]); // "al\xe9:secret"
      expect(outcome(await withAuthorization(basic(latin1)))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
    });

    it('rejects Basic credentials with an empty user id', async () => {
      expect(outcome(await withAuthorization(basic(':secret')))).toEqual(unauthorized(MESSAGE.invalid, BASIC_REJECTED));
    });
  });
});
