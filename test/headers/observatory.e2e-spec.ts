/**
 * Mozilla's HTTP Observatory (`@mdn/mdn-http-observatory`, the scanner behind
 * developer.mozilla.org/observatory) grades the demo API's routes A+ on both adapters (issue 17).
 *
 * The app is served as it is deployed: plain HTTP, where `https.enforce` redirects to HTTPS, and
 * HTTPS through a TLS-terminating proxy (`trustProxy: 'loopback'`), both on one port (the scanner's
 * 1.4 `scan()` takes one `host:port/path` for both schemes). The scanner runs whole, out of process:
 * the plain-HTTP request and its redirect chain, the HTTPS request (with a certificate it verifies),
 * `/robots.txt` and a CORS preflight; then all of its
 * tests (CSP, cookies, CORS, redirection, Referrer-Policy, HSTS, SRI, X-Content-Type-Options,
 * X-Frame-Options, CORP) and its grading. A grade is A+ here only with no test failed either: the
 * Observatory keeps A+ for a -5 (a missing X-Content-Type-Options), this suite does not.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PalisadeModule, Public, type ProtectiveHeader } from '@palisade/nest';
import { createDemoApp } from '../../apps/demo/src/app.factory.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { bootHeadersApp } from '../support/headers.js';
import { expectObservatoryAPlus, observatoryScan, verdictOf } from '../support/observatory.js';
import { startSharedPort, startTlsProxy, type SharedPort, type TlsProxy } from '../support/tls-proxy.js';

/** A scan makes about eight requests and starts a Node.js process: generous on a loaded machine. */
const SCAN_TIMEOUT = 60_000;

/** The port an app is served on, over plain HTTP and (through the TLS proxy) HTTPS. */
interface Deployment {
  port: number;
}

/**
 * Before the enclosing tests: starts the TLS proxy and the port it shares with plain HTTP, then the
 * app (`boot` gets that port: the HTTPS port its redirects point to) on its own loopback port, and
 * points both at it.
 */
function useDeployment(boot: (httpsPort: number) => Promise<INestApplication>): Deployment {
  const deployment: Deployment = { port: 0 };
  let proxy: TlsProxy | undefined;
  let shared: SharedPort | undefined;
  let app: INestApplication | undefined;
  beforeAll(async () => {
    proxy = await startTlsProxy();
    shared = await startSharedPort(proxy.port);
    app = await boot(shared.port);
    const { port } = app.getHttpServer().address() as AddressInfo;
    proxy.forwardTo(port);
    shared.forwardPlainTo(port);
    deployment.port = shared.port;
  });
  afterAll(async () => {
    await shared?.close();
    await app?.close();
    await proxy?.close();
  });
  return deployment;
}

/** The demo with HTTPS enforced, behind the proxy. */
function bootDemo(adapter: AdapterName) {
  return async (httpsPort: number): Promise<INestApplication> => {
    const config = loadConfig({
      HTTP_ADAPTER: adapter,
      JWT_SECRET: 'observatory-e2e-secret-0123456789abcdef',
      HTTPS_ENFORCE: 'true',
      HTTPS_HOSTS: '127.0.0.1',
      HTTPS_PORT: String(httpsPort),
      TRUST_PROXY: 'loopback',
      THROTTLE_LIMIT: '1000',
    });
    const app = await createDemoApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    return app;
  };
}

describe.each(ADAPTERS)('HTTP Observatory: the demo API grades A+ (%s)', (adapter) => {
  const demo = useDeployment(bootDemo(adapter));

  it(
    'GET /health: A+, the plain-HTTP request redirected to HTTPS on the same host and port, HSTS over HTTPS',
    async () => {
      const report = await observatoryScan({ port: demo.port, path: '/health' });
      expect(report.scan.statusCode).toBe(200);
      expect(report.tests.redirection?.route).toEqual([`http://127.0.0.1:${demo.port}/health`, `https://127.0.0.1:${demo.port}/health`]);
      expect(report.tests['strict-transport-security']?.result).toBe('hsts-implemented-max-age-at-least-six-months');
      expectObservatoryAPlus(report);
    },
    SCAN_TIMEOUT,
  );

  it(
    "GET /reports without credentials: A+ on the 401 (the scanner grades 401 and 403 answers as it does 200's)",
    async () => {
      const report = await observatoryScan({ port: demo.port, path: '/reports' });
      expect(report.scan.statusCode).toBe(401);
      expectObservatoryAPlus(report);
    },
    SCAN_TIMEOUT,
  );
});

@Controller('status')
@Public()
class StatusController {
  @Get() status(): object {
    return { status: 'ok' };
  }
}

/** A minimal app with Palisade's defaults less `disabled`, deployed as the demo is. */
function bootWithout(adapter: AdapterName, disabled: readonly ProtectiveHeader[]) {
  return async (httpsPort: number): Promise<INestApplication> => {
    const palisade = PalisadeModule.forRoot({
      trustProxy: 'loopback',
      https: { enforce: true, hosts: ['127.0.0.1'], port: httpsPort },
      headers: disabled.length === 0 ? {} : { dangerouslyDisable: disabled },
    });
    return (await bootHeadersApp(adapter, { imports: [palisade], controllers: [StatusController] })).app;
  };
}

describe.each(ADAPTERS)('HTTP Observatory: the grade follows the headers (%s)', (adapter) => {
  const defaults = useDeployment(bootWithout(adapter, []));
  const noCsp = useDeployment(bootWithout(adapter, ['Content-Security-Policy']));
  const noHsts = useDeployment(bootWithout(adapter, ['Strict-Transport-Security']));
  const noNosniff = useDeployment(bootWithout(adapter, ['X-Content-Type-Options']));

  it(
    "Palisade's defaults alone: A+",
    async () => {
      expectObservatoryAPlus(await observatoryScan({ port: defaults.port, path: '/status' }));
    },
    SCAN_TIMEOUT,
  );

  it(
    'without Content-Security-Policy: B (100 - 25), and the A+ assertion names the failed test',
    async () => {
      const report = await observatoryScan({ port: noCsp.port, path: '/status' });
      expect(verdictOf(report)).toEqual({ grade: 'B', score: 75, failed: ['content-security-policy: csp-not-implemented (-25)'] });
      expect(() => expectObservatoryAPlus(report)).toThrow(/grade B \(score 75\); failed: content-security-policy: csp-not-implemented \(-25\)/);
    },
    SCAN_TIMEOUT,
  );

  it(
    'without Strict-Transport-Security: B+ (100 - 20)',
    async () => {
      const report = await observatoryScan({ port: noHsts.port, path: '/status' });
      expect(verdictOf(report)).toEqual({ grade: 'B+', score: 80, failed: ['strict-transport-security: hsts-not-implemented (-20)'] });
    },
    SCAN_TIMEOUT,
  );

  it(
    'without X-Content-Type-Options: the Observatory still says A+ (a -5 under bonus points), the A+ assertion does not pass it',
    async () => {
      const report = await observatoryScan({ port: noNosniff.port, path: '/status' });
      expect(verdictOf(report)).toMatchObject({ grade: 'A+', failed: ['x-content-type-options: x-content-type-options-not-implemented (-5)'] });
      expect(() => expectObservatoryAPlus(report)).toThrow(/x-content-type-options-not-implemented/);
    },
    SCAN_TIMEOUT,
  );
});
