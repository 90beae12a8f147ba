/**
 * The self-hosted GraphiQL page of `@palisade/nest/graphiql` in a real browser, on both GraphQL
 * drivers (Apollo on Express, Mercurius on Fastify, each with its own CDN page turned off): the
 * page loads React, ReactDOM and GraphiQL under the nonce-only `graphiql` CSP preset without a
 * single CSP violation (its settings dialog, which inserts a `<style>` at run time, included); a
 * query typed in GraphiQL with an `Authorization: Bearer` header in its headers editor returns the
 * data, the same query without it returns UNAUTHENTICATED, and `/graphql` keeps the strict policy.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, bootApp } from '../support/app.js';
import { CHROMIUM, chromiumMissing, launchChromium, recordPage, type Chromium, type PageRecord } from '../support/browser.js';
import { graphiqlAppMetadata } from '../support/graphiql-app.js';
import { signToken } from '../support/tokens.js';

/** Bounded waits for the UI: generous for a loaded machine, short enough that a broken flow fails fast. */
const UI_TIMEOUT = 15_000;
const API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** An open GraphiQL page with what it recorded since before it loaded. */
interface OpenPage extends PageRecord {
  page: Page;
  document: Response | null;
}

async function openGraphiql(browser: Chromium, origin: string): Promise<OpenPage> {
  const page = await browser.context.newPage();
  const record = await recordPage(page);
  const document = await page.goto(`${origin}/graphiql`);
  return { ...record, page, document };
}

/** Replaces the text of the visible CodeMirror editor inside `container` as typed input (no auto-closed brackets). */
async function typeInto(page: Page, container: string, text: string): Promise<void> {
  await page.locator(`${container} .CodeMirror >> visible=true`).first().click({ timeout: UI_TIMEOUT });
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Types `query` (and the headers, if any) in GraphiQL, runs it, and returns the `/graphql` exchange and the result pane. */
async function runQuery(page: Page, query: string, headers?: string): Promise<{ response: Response; shown: string }> {
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: UI_TIMEOUT });
  await typeInto(page, '.graphiql-query-editor', query);
  if (headers !== undefined) {
    await page.locator('.graphiql-editor-tools button', { hasText: 'Headers' }).click({ timeout: UI_TIMEOUT });
    await typeInto(page, '.graphiql-editor-tool', headers);
  }
  const answered = page.waitForResponse(
    (response) => new URL(response.url()).pathname === '/graphql' && (response.request().postData() ?? '').includes('"query":"{ me }"'),
    { timeout: UI_TIMEOUT },
  );
  await page.locator('.graphiql-execute-button').click({ timeout: UI_TIMEOUT });
  const response = await answered;
  const result = page.locator('.graphiql-response .CodeMirror-code');
  await result.filter({ hasText: /"(data|errors)"/ }).waitFor({ timeout: UI_TIMEOUT });
  return { response, shown: (await result.textContent()) ?? '' };
}

const missing = chromiumMissing();
const inCi = process.env.CI === 'true';

// Exactly one of the two blocks below is registered (as in swagger-ui-browser.e2e-spec.ts).
const describeWithoutChromium = missing === undefined ? (): void => undefined : describe;
const describeWithChromium = missing === undefined ? describe.each(ADAPTERS) : (): void => undefined;

describeWithoutChromium('the GraphiQL browser test without chromium', () => {
  it(`needs ${CHROMIUM}`, (ctx) => {
    process.stderr.write(`[browser test] ${missing}\n`);
    ctx.skip(!inCi, missing);
    expect.fail(`CI=true but ${missing}`);
  });
});

describeWithChromium('the self-hosted GraphiQL page in a real browser (%s)', (adapter) => {
  let app: INestApplication;
  let origin: string;
  let browser: Chromium;

  beforeAll(async () => {
    ({ app } = await bootApp(adapter, graphiqlAppMetadata(adapter)));
    origin = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders GraphiQL with the schema under the graphiql preset, its settings dialog included, with no CSP violation', async () => {
    const { page, document, foreignOrigins, problems } = await openGraphiql(browser, origin);
    try {
      const policy = document?.headers()['content-security-policy'] ?? '';
      expect(policy).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+';/);
      expect(policy).not.toContain('unsafe-inline');
      await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: UI_TIMEOUT });
      // The schema came by introspection from /graphql (the docs explorer lists the Query type).
      await page.locator('button[aria-label="Show Documentation Explorer"]').click({ timeout: UI_TIMEOUT });
      await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT });
      // The settings dialog locks scrolling with a <style> element inserted at run time: it must carry the nonce.
      await page.locator('button[aria-label="Open settings dialog"]').click({ timeout: UI_TIMEOUT });
      await page.locator('.graphiql-dialog').waitFor({ timeout: UI_TIMEOUT });
      expect(
        await page.evaluate(
          () => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('style').length,
        ),
      ).toBeGreaterThan(0);
      await page.keyboard.press('Escape');
      await page.locator('.graphiql-dialog').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      // Nothing came from another origin.
      expect(foreignOrigins(origin)).toEqual([]);
      expect(await problems()).toEqual({ violations: [], consoleErrors: [], pageErrors: [] });
    } finally {
      await page.close();
    }
  });

  it('a query sent from GraphiQL with an Authorization: Bearer header returns the data; /graphql keeps the strict policy', async () => {
    const token = signToken({ sub: 'alice' });
    const { page, problems } = await openGraphiql(browser, origin);
    try {
      const { response, shown } = await runQuery(page, '{ me }', JSON.stringify({ Authorization: `Bearer ${token}` }));
      expect(await response.request().headerValue('authorization')).toBe(`Bearer ${token}`);
      expect({ status: response.status(), body: (await response.json()) as unknown }).toEqual({ status: 200, body: { data: { me: 'signed in as alice' } } });
      expect(shown).toContain('signed in as alice');
      expect((await response.allHeaders())['content-security-policy']).toBe(API_POLICY);
      expect(await problems()).toEqual({ violations: [], consoleErrors: [], pageErrors: [] });
    } finally {
      await page.close();
    }
  });

  it('the same query without the header returns UNAUTHENTICATED', async () => {
    const { page, problems } = await openGraphiql(browser, origin);
    try {
      const { response, shown } = await runQuery(page, '{ me }');
      expect(await response.request().headerValue('authorization')).toBeNull();
      const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      expect(body.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([['Authentication required', 'UNAUTHENTICATED']]);
      expect(shown).toContain('UNAUTHENTICATED');
      expect(shown).not.toContain('signed in as');
      expect((await response.allHeaders())['content-security-policy']).toBe(API_POLICY);
      expect(await problems()).toEqual({ violations: [], consoleErrors: [], pageErrors: [] });
    } finally {
      await page.close();
    }
  });
});
