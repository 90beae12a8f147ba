import { Controller, Get } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, type Principal } from '@palisade/nest';
import { ADAPTERS, bootApp } from '../support/app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

@Controller('who')
class WhoController {
  @Get() who(@CurrentUser() user: Principal) {
    return { id: user.id };
  }
}

describe.each(ADAPTERS)('harness on %s', (adapter) => {
  let ctx: Awaited<ReturnType<typeof bootApp>>;
  beforeAll(async () => {
    ctx = await bootApp(adapter, { imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [WhoController] });
  });
  afterAll(() => ctx.app.close());

  it('authenticates a valid token', async () => {
    const res = await ctx.http.get('/who').set('Authorization', `Bearer ${signToken()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'user-1' });
  });
});
