import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PalisadeModule, Public, SecurityHeadersService } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CollectingSink } from '../support/events.js';

@Controller()
class OpenController {
  @Get('open') @Public() open() {
    return { ok: true };
  }
}

/** A nonce source that returns a value Node.js refuses in a header (a line break). */
class BrokenNonceHeaders extends SecurityHeadersService {
  protected override createNonce(): string {
    return 'abc\r\nX-Injected: yes';
  }
}

describe.each(ADAPTERS)('a security header that cannot be written (%s)', (adapter) => {
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let sink: CollectingSink;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      // The 'page' preset puts a nonce in the policy: the header is built per request.
      imports: [PalisadeModule.forRoot({ headers: { contentSecurityPolicy: { preset: 'page' } }, global: true })],
      controllers: [OpenController],
      providers: [CollectingSink],
    })
      .overrideProvider(SecurityHeadersService)
      .useClass(BrokenNonceHeaders)
      .compile();
    app = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    await app.listen(0, '127.0.0.1');
    http = request(app.getHttpServer());
    sink = app.get(CollectingSink);
  });
  afterAll(async () => {
    await app?.close();
  });
  beforeEach(() => sink.clear());

  it('is not skipped: the request is answered with a 500 and a headers.write-failed event names the header', async () => {
    const res = await http.get('/open');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'The security headers of the response could not be written' });
    expect(res.headers['x-injected']).toBeUndefined();
    const events = sink.ofType('headers.write-failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'headers.write-failed', severity: 'critical', header: 'Content-Security-Policy' });
    expect(events[0]?.reason).not.toContain('X-Injected');
  });
});
