import { Controller, Get, Post } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Public } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { DEFAULT_HEADERS, securityHeadersOf, useHeadersApp } from '../support/headers.js';

@Controller()
class FormController {
  @Get('open') @Public() open() {
    return { ok: true };
  }

  @Post('transfer') @Public() transfer() {
    return { done: true };
  }
}

// Palisade never takes Nest's one security hook (HttpServer.registerSecurityHook), so the
// application's own app.enableCsrfProtection() works next to it, and its rejections carry
// Palisade's headers like every other response.
describe.each(ADAPTERS)('app.enableCsrfProtection() next to Palisade (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () => ({ imports: [PalisadeModule.forRoot({ global: true })], controllers: [FormController] }), {
    configure: (app) => app.enableCsrfProtection(),
  });

  it("a cross-site POST is refused by Nest's check, with Palisade's headers", async () => {
    const res = await ctx.http.post('/transfer').set('Sec-Fetch-Site', 'cross-site').send({});
    expect(res.status).toBe(403);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('a same-origin POST and a GET pass, with the same headers', async () => {
    const post = await ctx.http.post('/transfer').set('Sec-Fetch-Site', 'same-origin').send({});
    const get = await ctx.http.get('/open');
    expect([post.status, get.status]).toEqual([201, 200]);
    for (const res of [post, get]) expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });
});
