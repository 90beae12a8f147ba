/**
 * The demo's Swagger UI at `/docs` in a real browser: it renders the Palisade-completed document
 * (the operations, the Authorize button of its security schemes) under the `swagger-ui` CSP preset
 * given to `/docs` through `headers.paths`, without a single CSP violation; "Try it out" on a
 * protected route answers 401 until the user authorizes through the OAuth2 password flow (the
 * demo's `POST /auth/token`), then 200 — the API keeping its own strict CSP.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from '../../apps/demo/src/app.factory.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';
import { CHROMIUM, chromiumMissing, launchChromium, recordPage, type Chromium } from '../support/browser.js';

/** Bounded waits for the UI: generous for a loaded machine, short enough that a broken flow fails fast. */
const UI_TIMEOUT = 15_000;

/** Opens `/docs` in a new page that records CSP violations and the API responses. */
async function openDocs(browser: Chromium, api: string): Promise<{ page: Page; responses: Response[]; violations: () => Promise<string[]> }> {
  const page = await browser.context.newPage();
  const { responses, violations } = await recordPage(page);
  await page.goto(`${api}/docs`);
  await page.waitForSelector('.opblock', { timeout: UI_TIMEOUT });
  return { page, responses, violations };
}

/** "Try it out" → "Execute" on `GET /reports`; resolves with the status and body the UI renders. */
async function executeReports(page: Page): Promise<{ status: string; body: string }> {
  const operation = page
    .locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/reports$/ }) })
    .filter({ has: page.locator('.opblock-summary-method', { hasText: 'GET' }) });
  await operation.first().locator('.opblock-summary').click({ timeout: UI_TIMEOUT });
  const block = operation.first();
  const tryOut = block.locator('.try-out__btn');
  await tryOut.waitFor({ timeout: UI_TIMEOUT });
  if (!/cancel/i.test((await tryOut.textContent()) ?? '')) await tryOut.click({ timeout: UI_TIMEOUT });
  await block.locator('.execute').click({ timeout: UI_TIMEOUT });
  const live = block.locator('.live-responses-table tr.response .response-col_status').first();
  await live.waitFor({ timeout: UI_TIMEOUT });
  const status = ((await live.textContent()) ?? '').trim();
  const body = ((await block.locator('.live-responses-table tr.response .response-col_description').first().textContent()) ?? '').trim();
  return { status, body };
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
    const { consoleErrors, violations } = await recordPage(page);
    try {
      const response = await page.goto(`${api}/docs`);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 });
      expect(await page.textContent('.swagger-ui .info .title')).toContain('Palisade demo');
      await page.waitForSelector('.opblock', { timeout: 15_000 });
      expect(await page.locator('.opblock-summary-path', { hasText: '/admin' }).count()).toBe(1);
      expect(await page.locator('button.authorize').count()).toBe(1);
      expect(await violations()).toEqual([]);
      expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('"Try it out" on GET /reports answers 401 without authorizing, with no CSP violation', async () => {
    const { page, responses, violations } = await openDocs(browser, api);
    try {
      const shown = await executeReports(page);
      expect(shown.status).toMatch(/^401/);
      expect(shown.body).toContain('Unauthorized');
      const reports = responses.filter((response) => new URL(response.url()).pathname === '/reports');
      expect(reports.map((response) => response.status())).toEqual([401]);
      expect(await reports[0]!.request().headerValue('authorization')).toBeNull();
      expect((await reports[0]!.allHeaders())['content-security-policy']).toContain("default-src 'none'");
      expect(await violations()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('authorizes through the OAuth2 password flow, then "Try it out" on GET /reports answers 200 with the reports', async () => {
    const { page, responses, violations } = await openDocs(browser, api);
    try {
      await page.click('.btn.authorize', { timeout: UI_TIMEOUT });
      // The modal lists every scheme (bearer, oauth2, api_key, basic), each with its own Authorize button.
      // Its oauth2 part is found by its heading ("oauth2 (OAuth2, password)"), before and after authorizing.
      const oauth2 = page.locator('.modal-ux .auth-container', { has: page.locator('h4', { hasText: '(OAuth2, password)' }) });
      await oauth2.locator('#oauth_username').fill('alice', { timeout: UI_TIMEOUT });
      await oauth2.locator('#oauth_password').fill('alice-password', { timeout: UI_TIMEOUT });
      // The document declares the flow's scopes: the UI lists them as styled checkboxes (the input
      // itself is hidden), ticked through their label.
      const scope = oauth2.locator('input[type="checkbox"][data-value="reports:read"]');
      expect(await scope.count()).toBe(1);
      expect(await scope.isChecked()).toBe(false);
      await oauth2.locator(`label[for="${await scope.getAttribute('id')}"]`).click({ timeout: UI_TIMEOUT });
      expect(await scope.isChecked()).toBe(true);
      const tokenResponse = page.waitForResponse((response) => new URL(response.url()).pathname === '/auth/token', { timeout: UI_TIMEOUT });
      await oauth2.locator('.auth-btn-wrapper .authorize').click({ timeout: UI_TIMEOUT });
      const token = await tokenResponse;
      // The body is part of the compared object so that a refusal (403, 400, 429) shows its reason.
      expect({ status: token.status(), body: await token.text() }).toMatchObject({ status: 200 });
      expect(token.headers()['cache-control']).toBe('no-store');
      // Swagger UI posts the form the demo parses, with the ticked scope; the grant narrows to it.
      expect(await token.request().headerValue('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
      const form = new URLSearchParams(token.request().postData() ?? '');
      expect([form.get('grant_type'), form.get('username'), form.get('scope')]).toEqual(['password', 'alice', 'reports:read']);
      const granted = (await token.json()) as { access_token: string; token_type: string; scope?: string };
      expect(granted.token_type).toBe('Bearer');
      expect(granted.scope).toBe('reports:read');
      // The modal shows the scheme as authorized, its Authorize button turned into Logout.
      await oauth2.locator('.auth-btn-wrapper .authorize', { hasText: 'Logout' }).waitFor({ timeout: UI_TIMEOUT });
      expect(await oauth2.locator('h6', { hasText: 'Authorized' }).count()).toBe(1);
      await oauth2.locator('.auth-btn-wrapper .btn-done').click({ timeout: UI_TIMEOUT });
      await page.locator('.modal-ux').waitFor({ state: 'detached', timeout: UI_TIMEOUT });

      const shown = await executeReports(page);
      expect(shown.status).toMatch(/^200/);
      expect(shown.body).toContain('Quarterly access review');
      const reports = responses.filter((response) => new URL(response.url()).pathname === '/reports');
      expect(reports.map((response) => response.status())).toEqual([200]);
      expect(await reports[0]!.request().headerValue('authorization')).toBe(`Bearer ${granted.access_token}`);
      // The API route keeps its own strict policy; only /docs has the Swagger UI preset.
      const policy = (await reports[0]!.allHeaders())['content-security-policy'];
      expect(policy).toContain("default-src 'none'");
      expect(policy).not.toContain("script-src 'self'");
      expect(await violations()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
