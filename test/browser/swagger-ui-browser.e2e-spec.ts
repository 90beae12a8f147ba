/**
 * The demo's Swagger UI at `/docs` in a real browser: it renders the Palisade-completed document
 * (the operations, the Authorize button of its security schemes) under the `swagger-ui` CSP preset
 * given to `/docs` through `headers.paths`, without a single CSP violation.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from '../../apps/demo/src/app.factory.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';
import { CHROMIUM, chromiumMissing, launchChromium, type Chromium } from '../support/browser.js';

/** The page globals the init script below uses (the project compiles without DOM types). */
interface ViolationRecorder {
  cspViolations: string[];
  document: { addEventListener(type: 'securitypolicyviolation', listener: (event: { effectiveDirective: string; blockedURI: string }) => void): void };
}

const missing = chromiumMissing();
const inCi = process.env.CI === 'true';

// Exactly one of the two blocks below is registered (as in demo-browser.e2e-spec.ts).
const describeWithoutChromium = missing === undefined ? (): void => undefined : describe;
const describeWithChromium = missing === undefined ? describe.each(ADAPTERS) : (): void => undefined;

describeWithoutChromium('the Swagger UI browser test without chromium', () => {
  it(`needs ${CHROMIUM}`, (ctx) => {
    process.stderr.write(`[browser test] ${missing}\n`);
    ctx.skip(!inCi, missing);
    expect.fail(`CI=true but ${missing}`);
  });
});

describeWithChromium("Swagger UI at the demo's /docs in a real browser (%s)", (adapter: (typeof ADAPTERS)[number]) => {
  let demo: INestApplication;
  let api: string;
  let browser: Chromium;

  beforeAll(async () => {
    demo = await createDemoApp(loadConfig({ HTTP_ADAPTER: adapter, JWT_SECRET: 'swagger-ui-browser-secret-0123456789abcdef-01' }), { logger: false });
    await demo.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(demo.getHttpServer().address() as { port: number }).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('renders the document, its operations and the Authorize button, with no CSP violation', async () => {
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.addInitScript(() => {
      const recorder = globalThis as unknown as ViolationRecorder;
      recorder.cspViolations = [];
      recorder.document.addEventListener('securitypolicyviolation', (event) => recorder.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`));
    });
    try {
      const response = await page.goto(`${api}/docs`);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 });
      expect(await page.textContent('.swagger-ui .info .title')).toContain('Palisade demo');
      await page.waitForSelector('.opblock', { timeout: 15_000 });
      expect(await page.locator('.opblock-summary-path', { hasText: '/admin' }).count()).toBe(1);
      expect(await page.locator('button.authorize').count()).toBe(1);
      const violations = await page.evaluate(() => (globalThis as unknown as ViolationRecorder).cspViolations);
      expect(violations).toEqual([]);
      expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
