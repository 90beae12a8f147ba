import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';

/** Debian's chromium, installed by `.ci/run` (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, reproducible headless run (no sandbox: CI containers run as root). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Why the browser cannot run here, or `undefined` when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium); .ci/run does it in CI.`;
}

/** A headless chromium with a fresh profile; `close()` removes the profile. */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless chromium with a fresh, temporary user-data directory. */
export async function launchChromium(): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'palisade-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A tiny web site on its own origin (`http://127.0.0.1:<port>`), serving one HTML page per path. */
export interface Site {
  origin: string;
  close(): Promise<void>;
}

/** Serves `pages` (path → HTML body) with no security headers of its own; other paths are 404s. */
export async function serveSite(pages: Readonly<Record<string, string>>): Promise<Site> {
  const server: Server = createServer((request, response) => {
    const page = pages[request.url ?? '/'];
    response.writeHead(page === undefined ? 404 : 200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(page ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The page globals the recorder's init script uses (the project compiles without DOM types). */
interface ViolationRecorder {
  cspViolations: string[];
  document: {
    addEventListener(type: 'securitypolicyviolation', listener: (event: { effectiveDirective: string; blockedURI: string; sourceFile: string }) => void): void;
  };
}

/** What a page recorded since {@link recordPage}: CSP violations, console errors, uncaught errors, responses. */
export interface PageRecord {
  /** Every response the page received (its documents, scripts, styles, fetches), in order. */
  readonly responses: Response[];
  /** The text of every `console.error` (the browser's own CSP reports included). */
  readonly consoleErrors: string[];
  /** The message of every uncaught error. */
  readonly pageErrors: string[];
  /** The CSP violations reported in the current document: `<directive> <blocked URI> (<source file>)`. */
  violations(): Promise<string[]>;
  /** The three lists of problems at once, to compare with empty ones. */
  problems(): Promise<{ violations: string[]; consoleErrors: string[]; pageErrors: string[] }>;
  /** The origins of the responses that came from anywhere but `origin` (opaque `null` origins left out). */
  foreignOrigins(origin: string): string[];
}

/**
 * Starts recording on `page`; call it before `page.goto()`, whose document (and every later one)
 * then reports its CSP violations through an init script.
 */
export async function recordPage(page: Page): Promise<PageRecord> {
  const responses: Response[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('response', (response) => responses.push(response));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.addInitScript(() => {
    const recorder = globalThis as unknown as ViolationRecorder;
    recorder.cspViolations = [];
    recorder.document.addEventListener('securitypolicyviolation', (event) =>
      recorder.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI} (${event.sourceFile})`),
    );
  });
  const violations = (): Promise<string[]> => page.evaluate(() => (globalThis as unknown as ViolationRecorder).cspViolations);
  return {
    responses,
    consoleErrors,
    pageErrors,
    violations,
    problems: async () => ({ violations: await violations(), consoleErrors, pageErrors }),
    foreignOrigins: (origin) => responses.map((response) => new URL(response.url()).origin).filter((o) => o !== origin && o !== 'null'),
  };
}
