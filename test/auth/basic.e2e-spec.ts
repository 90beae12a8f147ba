import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, type Principal, type PrincipalInit } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { MESSAGE, outcome, unauthorized, useApp } from '../support/auth.js';

@Controller('me')
class MeController {
  @Get() me(@CurrentUser() user: Principal) {
    return user;
  }
}

const USERS: Readonly<Record<string, { password: string; principal: PrincipalInit }>> = {
  alice: { password: 'alice-password', principal: { id: 'alice', roles: ['admin'] } },
  carol: { password: 'pa:ss:word', principal: { id: 'carol' } },
  zoë: { password: 'mot-de-passe-é', principal: { id: 'zoë' } },
};

const CHALLENGE = 'Basic realm="staff area", charset="UTF-8"';
const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe.each(ADAPTERS)('HTTP Basic authentication on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: {
          basic: {
            realm: 'staff area',
            validate: (userId, password) => {
              const user = USERS[userId];
              return user !== undefined && user.password === password ? user.principal : null;
            },
          },
        },
        global: true,
      }),
    ],
    controllers: [MeController],
  }));
  const login = (userPass: string) => ctx.http.get('/me').set('Authorization', basic(userPass));

  it('accepts a valid user id and password', async () => {
    const res = await login('alice:alice-password');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'alice', scheme: 'basic', roles: ['admin'], scopes: [], claims: {} });
  });

  it('rejects a wrong password', async () => {
    expect(outcome(await login('alice:wrong-password'))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE));
  });

  it('rejects an unknown user', async () => {
    expect(outcome(await login('mallory:alice-password'))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE));
  });

  it("splits user id and password at the first colon, so a password may contain ':' (RFC 7617)", async () => {
    const res = await login('carol:pa:ss:word');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'carol', scheme: 'basic' });
  });

  it('decodes a UTF-8 user id and password', async () => {
    const res = await login('zoë:mot-de-passe-é');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'zoë', scheme: 'basic' });
  });

  it('challenges a request without credentials with the realm and charset="UTF-8"', async () => {
    expect(outcome(await ctx.http.get('/me'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE));
  });

  it('challenges a bearer token with Basic only, since Basic is the only scheme', async () => {
    expect(outcome(await ctx.http.get('/me').set('Authorization', 'Bearer abc.def.ghi'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE));
  });
});
