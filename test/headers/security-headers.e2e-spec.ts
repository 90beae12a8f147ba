import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Controller,
  Get,
  HttpException,
  Injectable,
  Module,
  Post,
  Redirect,
  Res,
  UseGuards,
  type CanActivate,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, Roles, type Principal } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { AUTHENTICATED_HEADERS, DEFAULT_HEADERS, securityHeadersOf, useHeadersApp } from '../support/headers.js';
import { rawGet } from '../support/raw-http.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

/** Answers 429 like a throttler would, independently of the throttling capability. */
@Injectable()
class TooManyRequestsGuard implements CanActivate {
  canActivate(): boolean {
    throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: 'Slow down' }, 429);
  }
}

@Controller()
class ScenarioController {
  @Get('open') @Public() open() {
    return { ok: true };
  }

  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id };
  }

  @Get('admin') @Roles('admin') admin() {
    return { area: 'admin' };
  }

  @Get('limited') @Public() @UseGuards(TooManyRequestsGuard) limited() {
    return { never: true };
  }

  @Get('boom') @Public() boom(): never {
    throw new Error('database exploded');
  }

  @Get('moved') @Public() @Redirect('/open', 302) moved() {
    return undefined;
  }

  @Post('echo') @Public() echo() {
    return { ok: true };
  }

  @Get('items/:id') @Public() item() {
    return { ok: true };
  }

  /** Writes the Node.js response itself (a hijacked reply on Fastify). */
  @Get('raw') @Public() raw(@Res() response: ServerResponse | { hijack(): void; raw: ServerResponse }) {
    let raw: ServerResponse;
    if ('hijack' in response) {
      response.hijack();
      raw = response.raw;
    } else raw = response;
    raw.writeHead(200, { 'Content-Type': 'text/plain' });
    raw.end('raw');
  }

  @Get('ended-by-middleware') @Public() endedByMiddleware() {
    return { never: true };
  }

  @Get('write-head-wrapped') @Public() writeHeadWrapped() {
    return { ok: true };
  }

  @Get('own-csp') @Public() ownCsp() {
    return { ok: true };
  }

  @Get('own-csp-ended') @Public() ownCspEnded() {
    return { never: true };
  }

  /** A header value Node.js refuses when the head is written (Fastify) or set (Express). */
  @Get('bad-header') @Public() badHeader(
    @Res({ passthrough: true }) response: ServerResponse | { raw: ServerResponse; header(name: string, value: string): void },
  ) {
    if ('raw' in response) response.header('X-Bad', 'a\nb');
    else response.setHeader('X-Bad', 'a\nb');
    return { never: true };
  }
}

/** The policy a middleware sets itself (a documentation page's, say). */
const MIDDLEWARE_CSP = "default-src 'self'";

/** Ends the raw response itself, before any guard or handler (as a health-check middleware would). */
@Injectable()
class RawEndMiddleware implements NestMiddleware {
  use(_request: IncomingMessage, response: ServerResponse): void {
    response.statusCode = 204;
    response.end();
  }
}

/** Wraps `writeHead` the way the `on-headers` package does (morgan, compression, response-time). */
@Injectable()
class WriteHeadWrappingMiddleware implements NestMiddleware {
  use(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
    const writeHead = response.writeHead;
    response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      this.setHeader('X-Wrapped', 'yes');
      return Reflect.apply(writeHead, this, args) as ServerResponse;
    } as ServerResponse['writeHead'];
    next();
  }
}

/** Sets its own Content-Security-Policy on the Node.js response, then lets the route answer. */
@Injectable()
class OwnCspMiddleware implements NestMiddleware {
  use(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
    response.setHeader('Content-Security-Policy', MIDDLEWARE_CSP);
    next();
  }
}

/** Sets its own Content-Security-Policy and ends the Node.js response itself. */
@Injectable()
class OwnCspEndMiddleware implements NestMiddleware {
  use(_request: IncomingMessage, response: ServerResponse): void {
    response.setHeader('Content-Security-Policy', MIDDLEWARE_CSP);
    response.statusCode = 204;
    response.end();
  }
}

@Module({})
class RawEndModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RawEndMiddleware).forRoutes('ended-by-middleware');
    consumer.apply(WriteHeadWrappingMiddleware).forRoutes('write-head-wrapped');
    consumer.apply(OwnCspMiddleware).forRoutes('own-csp');
    consumer.apply(OwnCspEndMiddleware).forRoutes('own-csp-ended');
  }
}

const userToken = (): string => signToken({ sub: 'bob', roles: ['user'] });

describe.each(ADAPTERS)('security headers on every response (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () => ({
    imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true }), RawEndModule],
    controllers: [ScenarioController],
    providers: [TooManyRequestsGuard],
  }));

  it('200 to an anonymous request: exactly the default set, no Cache-Control, no X-Powered-By', async () => {
    const res = await ctx.http.get('/open');
    expect(res.status).toBe(200);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('200 to an authenticated request: the default set plus Cache-Control: no-store', async () => {
    const res = await ctx.http.get('/me').set('Authorization', `Bearer ${userToken()}`);
    expect(res.status).toBe(200);
    expect(securityHeadersOf(res.headers)).toEqual(AUTHENTICATED_HEADERS);
  });

  it('302 from @Redirect', async () => {
    const res = await ctx.http.get('/moved');
    expect(res.status).toBe(302);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('401 from the AuthGuard without credentials (the interceptor never runs)', async () => {
    const res = await ctx.http.get('/me');
    expect(res.status).toBe(401);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('401 for a rejected credential is not cacheable either', async () => {
    const res = await ctx.http.get('/me').set('Authorization', 'Bearer not.a.token');
    expect(res.status).toBe(401);
    expect(securityHeadersOf(res.headers)).toEqual(AUTHENTICATED_HEADERS);
  });

  it('403 from the RolesGuard', async () => {
    const res = await ctx.http.get('/admin').set('Authorization', `Bearer ${userToken()}`);
    expect(res.status).toBe(403);
    expect(securityHeadersOf(res.headers)).toEqual(AUTHENTICATED_HEADERS);
  });

  it('404 for an unknown route', async () => {
    const res = await ctx.http.get('/nothing/here');
    expect(res.status).toBe(404);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('429 from a guard', async () => {
    const res = await ctx.http.get('/limited');
    expect(res.status).toBe(429);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('500 from a handler that throws', async () => {
    const res = await ctx.http.get('/boom');
    expect(res.status).toBe(500);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('HEAD and 404 to POST', async () => {
    const head = await ctx.http.head('/open');
    expect(head.status).toBe(200);
    expect(securityHeadersOf(head.headers)).toEqual(DEFAULT_HEADERS);
    const post = await ctx.http.post('/open');
    expect(post.status).toBe(404);
    expect(securityHeadersOf(post.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('400 for a body the framework cannot parse, before any Nest code runs', async () => {
    const res = await ctx.http.post('/echo').set('Content-Type', 'application/json').send('{"broken":');
    expect(res.status).toBe(400);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('413 for a body over the framework limit', async () => {
    const res = await ctx.http
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('400 for a malformed request target, answered by the router itself (on Fastify, before any hook: see the next suites)', async () => {
    const res = await rawGet(ctx.app, '/items/%', []);
    expect(res.status).toBe(400);
    // Express's router fails after Palisade's middleware ran; Fastify answers through its
    // `frameworkErrors`, which runs no hook: only Nest's own security hook reaches it.
    expect(securityHeadersOf(res.headers)).toEqual(adapter === 'express' ? DEFAULT_HEADERS : {});
  });

  it('a handler that writes the Node.js response itself (a hijacked reply on Fastify)', async () => {
    const res = await ctx.http.get('/raw');
    expect([res.status, res.text]).toEqual([200, 'raw']);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('a middleware that ends the Node.js response before any guard runs', async () => {
    const res = await ctx.http.get('/ended-by-middleware');
    expect(res.status).toBe(204);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it('a middleware that wraps writeHead (as on-headers does): both run, once', async () => {
    const res = await ctx.http.get('/write-head-wrapped');
    expect([res.status, res.body]).toEqual([200, { ok: true }]);
    expect(securityHeadersOf(res.headers)).toEqual({ ...DEFAULT_HEADERS, 'x-wrapped': 'yes' });
  });

  it('500 when the response itself carries a header value Node.js refuses (Fastify then retries writeHead bare)', async () => {
    const res = await ctx.http.get('/bad-header');
    expect(res.status).toBe(500);
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it("a middleware's own value wins over the default, when the route answers and when it ends the response itself", async () => {
    const answered = await ctx.http.get('/own-csp');
    const ended = await ctx.http.get('/own-csp-ended');
    expect([answered.status, ended.status]).toEqual([200, 204]);
    for (const res of [answered, ended]) {
      expect(securityHeadersOf(res.headers)).toEqual({ ...DEFAULT_HEADERS, 'content-security-policy': MIDDLEWARE_CSP });
    }
  });
});

// Fastify only: an onRequest hook registered before Palisade's (as @fastify/helmet registers one).
describe('security headers on Fastify after an earlier onRequest hook', () => {
  const ctx = useHeadersApp(
    'fastify',
    () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [ScenarioController] }),
    {
      configure: (app) =>
        (app as NestFastifyApplication)
          .getHttpAdapter()
          .getInstance()
          .addHook('onRequest', (_request, reply, done) => {
            reply.header('X-Frame-Options', 'SAMEORIGIN');
            done();
          }),
    },
  );

  it("keeps the earlier hook's value and adds the rest", async () => {
    const res = await ctx.http.get('/open');
    expect(res.status).toBe(200);
    expect(securityHeadersOf(res.headers)).toEqual({ ...DEFAULT_HEADERS, 'x-frame-options': 'SAMEORIGIN' });
  });
});

// Fastify only: its framework errors run no hook; Nest's own security hook is the one that reaches them.
describe("Fastify's framework errors with app.useSecurityHeaders() next to Palisade", () => {
  const ctx = useHeadersApp(
    'fastify',
    () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [ScenarioController] }),
    { configure: (app) => app.useSecurityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"] } } }) },
  );

  it("a malformed request target carries Nest's headers; every other response carries Palisade's values", async () => {
    const bad = await rawGet(ctx.app, '/items/%', []);
    expect(bad.status).toBe(400);
    expect(bad.headers['x-content-type-options']).toBe('nosniff');
    expect(bad.headers['content-security-policy']).toMatch(/^default-src 'none';/);
    const open = await ctx.http.get('/open');
    expect(open.status).toBe(200);
    expect(securityHeadersOf(open.headers)).toMatchObject(DEFAULT_HEADERS);
    const missing = await ctx.http.get('/nothing');
    expect(missing.status).toBe(404);
    expect(securityHeadersOf(missing.headers)).toMatchObject(DEFAULT_HEADERS);
  });
});

// Fastify only: Express has no in-process injection that bypasses the HTTP server.
describe('security headers through fastify.inject()', () => {
  const ctx = useHeadersApp('fastify', () => ({
    imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })],
    controllers: [ScenarioController],
    providers: [TooManyRequestsGuard],
  }));

  it('covers fastify.inject(), which bypasses the HTTP server, hijacked replies included', async () => {
    const fastify = (ctx.app as NestFastifyApplication).getHttpAdapter().getInstance();
    const urls = ['/open', '/me', '/nothing', '/raw'];
    const replies = await Promise.all(urls.map((url) => fastify.inject({ method: 'GET', url })));
    expect(replies.map((res) => [res.statusCode, securityHeadersOf(res.headers)])).toEqual([
      [200, DEFAULT_HEADERS],
      [401, DEFAULT_HEADERS],
      [404, DEFAULT_HEADERS],
      [200, DEFAULT_HEADERS], // a hijacked reply: the onRequest hook wrote on the Node.js response
    ]);
  });
});
