/**
 * `X-Request-Id` on every response (success, 401, 404): a new UUID per request, unless a trusted
 * proxy set a well-formed one. A client that is not a trusted proxy cannot choose the id, so it
 * cannot forge or collide with another request's events.
 */
import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import type { Response } from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, type PalisadeModuleOptions, type Principal } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { useApp, type BootedApp } from '../support/auth.js';
import { CollectingSink, UUID } from '../support/events.js';
import { TEST_SECRET } from '../support/tokens.js';

@Controller()
class RequestIdController {
  @Get('open') @Public() open() {
    return { open: true };
  }

  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id };
  }

  @Post('echo') @Public() @HttpCode(200) echo(@Body() body: unknown) {
    return { body };
  }
}

function requestIdApp(extra: Pick<PalisadeModuleOptions, 'trustProxy'> = {}) {
  return () => ({
    imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, events: { detection: false }, ...extra, global: true })],
    controllers: [RequestIdController],
    providers: [CollectingSink],
  });
}

const requestIdOf = (res: Response): unknown => res.headers['x-request-id'];

/** The id of the one authentication.failed event emitted since the sink was cleared. */
function eventRequestId(ctx: BootedApp): string | undefined {
  const events = ctx.app.get(CollectingSink).ofType('authentication.failed');
  expect(events).toHaveLength(1);
  return events[0]?.requestId;
}

describe.each(ADAPTERS)('X-Request-Id on %s', (adapter) => {
  describe('no trusted proxy', () => {
    const ctx = useApp(adapter, requestIdApp());
    beforeEach(() => ctx.app.get(CollectingSink).clear());

    it.each([
      ['200', '/open', 200],
      ['401', '/me', 401],
      ['404', '/no-such-route', 404],
    ])('is a new UUID on a %s response', async (_label, path, status) => {
      const res = await ctx.http.get(path);
      expect(res.status).toBe(status);
      expect(requestIdOf(res)).toMatch(UUID);
    });

    it('is a new UUID on a 200 POST with a JSON body', async () => {
      const res = await ctx.http.post('/echo').send({ hello: 'world' });
      expect(res.status).toBe(200);
      expect(requestIdOf(res)).toMatch(UUID);
    });

    // Regression: on Express the JSON body parser runs before Palisade's middleware, so a body it
    // refuses (400, 413) was answered without X-Request-Id (Fastify had it: middie runs first).
    it('is a new UUID on a 400 for a malformed JSON body', async () => {
      const res = await ctx.http.post('/echo').set('Content-Type', 'application/json').send('{"unterminated');
      expect(res.status).toBe(400);
      expect(requestIdOf(res)).toMatch(UUID);
    });

    it('is a new UUID on a 413 for a body over the limit', async () => {
      const res = await ctx.http
        .post('/echo')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ padding: 'x'.repeat(2_000_000) }));
      expect(res.status).toBe(413);
      expect(requestIdOf(res)).toMatch(UUID);
    });

    it('differs from one request to the next', async () => {
      const ids = [];
      for (const path of ['/open', '/open', '/me', '/me', '/no-such-route', '/no-such-route']) ids.push(requestIdOf(await ctx.http.get(path)));
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('ignores a client-sent X-Request-Id: a new UUID is generated, and the event carries that one', async () => {
      const chosen = 'client-chosen-id-123';
      for (const path of ['/open', '/no-such-route']) {
        const res = await ctx.http.get(path).set('X-Request-Id', chosen);
        expect(requestIdOf(res)).toMatch(UUID);
      }
      const rejected = await ctx.http.get('/me').set('X-Request-Id', chosen);
      expect(rejected.status).toBe(401);
      expect(requestIdOf(rejected)).toMatch(UUID);
      expect(eventRequestId(ctx)).toBe(requestIdOf(rejected));
    });

    it('ignores a client-sent X-Forwarded-For trick too: the peer is not a trusted proxy', async () => {
      const res = await ctx.http.get('/me').set('X-Forwarded-For', '127.0.0.1').set('X-Request-Id', 'spoofed-through-xff');
      expect(requestIdOf(res)).toMatch(UUID);
      expect(eventRequestId(ctx)).toBe(requestIdOf(res));
    });
  });

  describe("behind a trusted proxy (trustProxy: 'loopback')", () => {
    const ctx = useApp(adapter, requestIdApp({ trustProxy: 'loopback' }));
    beforeEach(() => ctx.app.get(CollectingSink).clear());

    it.each([
      ['200', '/open', 200],
      ['401', '/me', 401],
      ['404', '/no-such-route', 404],
    ])("keeps the proxy's well-formed id on a %s response", async (_label, path, status) => {
      const id = `proxy-${status}-7f3a9c.req:01/a+b=c@edge`;
      const res = await ctx.http.get(path).set('X-Request-Id', id);
      expect(res.status).toBe(status);
      expect(requestIdOf(res)).toBe(id);
    });

    it("ties the security event to the proxy's id", async () => {
      const id = 'edge-4b1d6a2e-0001';
      const res = await ctx.http.get('/me').set('X-Forwarded-For', '203.0.113.9').set('X-Request-Id', id);
      expect(res.status).toBe(401);
      expect(requestIdOf(res)).toBe(id);
      const [event] = ctx.app.get(CollectingSink).ofType('authentication.failed');
      expect(event).toMatchObject({ requestId: id, clientIp: '203.0.113.9' });
    });

    it('generates a UUID when the proxy sent none', async () => {
      expect(requestIdOf(await ctx.http.get('/open'))).toMatch(UUID);
    });

    it.each([
      ['spaces', 'has spaces in it'],
      ['200 characters', 'a'.repeat(200)],
      ['129 characters (one over the limit)', 'b'.repeat(129)],
      ['a quote and a semicolon', 'id";drop'],
      ['non-ASCII', 'idé'],
    ])('replaces a malformed id (%s) with a new UUID, on the response and in the event', async (_label, id) => {
      const res = await ctx.http.get('/me').set('X-Request-Id', id);
      expect(res.status).toBe(401);
      expect(requestIdOf(res)).toMatch(UUID);
      expect(eventRequestId(ctx)).toBe(requestIdOf(res));
    });

    it('accepts an id of exactly 128 characters', async () => {
      const id = 'c'.repeat(128);
      expect(requestIdOf(await ctx.http.get('/open').set('X-Request-Id', id))).toBe(id);
    });
  });
});
