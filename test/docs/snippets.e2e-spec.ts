/**
 * Every TypeScript snippet of the documentation, as written: each ```ts / ```typescript block of
 * README.md and docs/**\/*.md is extracted to its own file, and all of them are type-checked in one
 * compiler run with the repository's strict options (`@palisade/nest` resolves to the library's
 * source through the root tsconfig's paths). Snippets whose info string says `runnable=<name>`
 * export an `AppModule`; each is booted on both adapters and driven over HTTP to check what its page
 * says it does. The convention is documented in docs/README.md.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { TokenService, type PrincipalInit } from '@palisade/nest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { runCommand } from '../support/command.js';
import { REPO_ROOT } from '../support/dist-lock.js';

const OUT = join(REPO_ROOT, 'test', 'docs', '.generated', 'snippets');

/** One fenced TypeScript block of a Markdown page. */
interface Snippet {
  /** Page, relative to the repository (`docs/tokens.md`). */
  page: string;
  /** 1-based line of the opening fence in the page. */
  line: number;
  /** The name after `runnable=` in the info string, when the snippet is meant to run. */
  runnable: string | undefined;
  code: string;
  /** The generated file's name. */
  file: string;
}

/** README.md and every Markdown page under docs/, sorted. */
async function pages(): Promise<string[]> {
  const docs = (await readdir(join(REPO_ROOT, 'docs'), { recursive: true }))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name).split('\\').join('/'));
  return ['README.md', ...docs.sort()];
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

/**
 * The TypeScript blocks of one page (indented ones, inside list items, included). Fences are
 * matched as in CommonMark (closed by the same character, at least as many times), so a block
 * shown inside a longer fence is an example, not a snippet.
 */
export function extractSnippets(page: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const opening = FENCE.exec(lines[index] ?? '');
    if (!opening) continue;
    const [, indent = '', fence = '```', info = ''] = opening;
    const closing = new RegExp(`^ *${fence[0] === '`' ? '`' : '~'}{${fence.length},} *$`);
    let end = index + 1;
    while (end < lines.length && !closing.test(lines[end] ?? '')) end++;
    if (end === lines.length) throw new Error(`${page}:${index + 1}: a code block is never closed`);
    const [lang, ...words] = info.trim().split(/\s+/);
    if (lang === 'ts' || lang === 'typescript') {
      const body = lines.slice(index + 1, end).map((text) => (text.startsWith(indent) ? text.slice(indent.length) : text.trimStart()));
      const runnable = words.map((word) => /^runnable=([\w-]+)$/.exec(word)?.[1]).find((name) => name !== undefined);
      const file = `${page.replace(/\.md$/, '').replace(/[^\w-]+/g, '_')}-L${index + 1}.ts`;
      snippets.push({ page, line: index + 1, runnable, code: `${body.join('\n')}\n`, file });
    }
    index = end;
  }
  return snippets;
}

/** A compiler diagnostic, placed in its page (`docs/tokens.md:14:7 TS2304 Cannot find name 'x'.`). */
function placeDiagnostics(output: string, snippets: readonly Snippet[]): Map<string, string[]> {
  const byFile = new Map(snippets.map((snippet) => [snippet.file, snippet]));
  const placed = new Map<string, string[]>();
  const add = (key: string, text: string): void => void placed.set(key, [...(placed.get(key) ?? []), text]);
  let last = '';
  for (const line of output.split('\n').filter((text) => text.trim().length > 0)) {
    if (/^\s/.test(line) && placed.has(last)) {
      add(last, line.trim()); // the continuation of the diagnostic above
      continue;
    }
    const diagnostic = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/.exec(line);
    const snippet = diagnostic ? byFile.get(relative(OUT, join(REPO_ROOT, diagnostic[1] ?? ''))) : undefined;
    last = snippet?.file ?? '';
    if (!diagnostic || !snippet) {
      add('', line);
      continue;
    }
    add(snippet.file, `${snippet.page}:${snippet.line + Number(diagnostic[2])}:${diagnostic[3]} ${diagnostic[5]} ${diagnostic[6]}`);
  }
  return placed;
}

const secret = 'docs-snippets-secret-0123456789abcdef-0123456789';
process.env.JWT_SECRET ??= secret;

const snippets: Snippet[] = [];
for (const page of await pages()) snippets.push(...extractSnippets(page, await readFile(join(REPO_ROOT, page), 'utf8')));

let diagnostics = new Map<string, string[]>();
let compilerExit: number | null = null;

beforeAll(async () => {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  await Promise.all(snippets.map((snippet) => writeFile(join(OUT, snippet.file), snippet.code)));
  await writeFile(
    join(OUT, 'tsconfig.json'),
    `${JSON.stringify({ extends: '../../../../tsconfig.json', include: ['*.ts'], exclude: [], compilerOptions: { noEmit: true } }, null, 2)}\n`,
  );
  const result = await runCommand(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(OUT, 'tsconfig.json'), '--pretty', 'false'],
    {
      cwd: REPO_ROOT,
      timeoutMs: 240_000,
    },
  );
  compilerExit = result.code;
  diagnostics = placeDiagnostics(result.stdout + result.stderr, snippets);
}, 250_000);

describe('the documentation’s TypeScript snippets', () => {
  it('are found in README.md and docs/ (at least the quick start and one per capability page)', () => {
    const onPages = new Set(snippets.map((snippet) => snippet.page));
    expect(snippets.length).toBeGreaterThanOrEqual(20);
    for (const page of ['README.md', 'docs/authentication.md', 'docs/authorization.md', 'docs/throttling.md', 'docs/tokens.md', 'docs/headers.md'])
      expect([...onPages]).toContain(page);
  });

  it('compile in one strict compiler run, with nothing reported outside them', () => {
    expect({ exit: compilerExit, unplaced: diagnostics.get('') ?? [] }).toEqual({ exit: 0, unplaced: [] });
  });

  it.each(snippets.map((snippet) => [`${snippet.page}:${snippet.line}`, snippet] as const))('%s type-checks', (_where, snippet) => {
    expect(diagnostics.get(snippet.file) ?? []).toEqual([]);
  });

  it('runs every runnable snippet: each has a scenario below, and each scenario a snippet', () => {
    const runnable = snippets.flatMap((snippet) => (snippet.runnable ? [snippet.runnable] : []));
    expect(new Set(runnable).size).toBe(runnable.length); // names are unique
    expect([...runnable].sort()).toEqual(Object.keys(SCENARIOS).sort());
  });
});

/** What a runnable snippet's scenario gets: the booted app and an HTTP client bound to it. */
interface Running {
  app: INestApplication;
  http: Awaited<ReturnType<typeof bootApp>>['http'];
  adapter: AdapterName;
  /** A bearer token the running app accepts (its own key, issuer and audience). */
  token(principal: PrincipalInit): string;
}

/** The nonce of a `Content-Security-Policy` header value. */
const nonceIn = (csp: unknown): string | undefined => /'nonce-([^']+)'/.exec(String(csp))?.[1];

/** What each runnable snippet's page says it does, checked over HTTP. */
const SCENARIOS: Record<string, (running: Running) => Promise<void>> = {
  async authorization({ http, token }) {
    expect((await http.get('/reports')).status).toBe(401);
    const analyst = token({ id: 'carol', roles: ['analyst'], scopes: ['reports:read'] });
    const list = await http.get('/reports').set('Authorization', `Bearer ${analyst}`);
    expect({ status: list.status, body: list.body as unknown }).toEqual({ status: 200, body: { owner: 'carol', reports: [] } });
    // A controller's @Roles and a handler's both apply; the handler's @Scopes too.
    const create = await http.post('/reports').set('Authorization', `Bearer ${analyst}`).send({});
    expect({ status: create.status, message: (create.body as { message?: string }).message }).toEqual({ status: 403, message: 'Insufficient role' });
    const admin = token({ id: 'alice', roles: ['admin'], scopes: ['reports:write'] });
    expect((await http.post('/reports').set('Authorization', `Bearer ${admin}`).send({})).status).toBe(201);
    const adminNoScope = token({ id: 'alice', roles: ['admin'] });
    const noScope = await http.post('/reports').set('Authorization', `Bearer ${adminNoScope}`).send({});
    expect({ status: noScope.status, challenge: noScope.headers['www-authenticate'] as unknown }).toEqual({
      status: 403,
      challenge: expect.stringContaining('error="insufficient_scope"') as unknown,
    });
    // The ownership policy: carol reads her own profile, not bob's; the admin reads both.
    expect((await http.get('/users/carol/profile').set('Authorization', `Bearer ${analyst}`)).status).toBe(200);
    const other = await http.get('/users/bob/profile').set('Authorization', `Bearer ${analyst}`);
    expect({ status: other.status, message: (other.body as { message?: string }).message }).toEqual({ status: 403, message: 'Access denied' });
    expect((await http.get('/users/bob/profile').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
    expect((await http.get('/reports/sample')).status).toBe(200);
  },

  async throttling({ http }) {
    const first = await http.get('/search?q=a');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"default";q=2;w=60');
    expect((await http.get('/search?q=b')).status).toBe(200);
    const third = await http.get('/search?q=c');
    expect({ status: third.status, error: (third.body as { error?: string }).error }).toEqual({ status: 429, error: 'Too Many Requests' });
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    // Health is never throttled.
    for (let i = 0; i < 5; i++) expect((await http.get('/health')).status).toBe(200);
  },

  async 'csp-nonce'({ http }) {
    const first = await http.get('/report.html');
    const second = await http.get('/report.html');
    const nonce = nonceIn(first.headers['content-security-policy']);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    expect(first.text).toContain(`<script nonce="${nonce}" src="/app.js"></script>`);
    expect(nonce).toMatch(/^[A-Za-z0-9+/_-]{22,}={0,2}$/);
    expect(nonceIn(second.headers['content-security-policy'])).not.toBe(nonce);
    // The other routes keep the module's API policy.
    expect((await http.get('/status')).headers['content-security-policy']).toBe(
      "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  },

  async guards({ http, token }) {
    const anonymous = await http.get('/orders');
    expect({ status: anonymous.status, challenge: anonymous.headers['www-authenticate'] as unknown }).toEqual({
      status: 401,
      challenge: expect.stringMatching(/^Bearer realm="api"/) as unknown,
    });
    expect((await http.get('/orders').set('Authorization', `Bearer ${token({ id: 'carol', roles: ['guest'] })}`)).status).toBe(403);
    const user = await http.get('/orders').set('Authorization', `Bearer ${token({ id: 'bob', roles: ['user'] })}`);
    expect({ status: user.status, body: user.body as unknown, limited: user.headers['ratelimit-policy'] as unknown }).toEqual({
      status: 200,
      body: [],
      limited: '"default";q=100;w=60',
    });
    expect((await http.get('/orders/status')).body).toEqual({ status: 'ok' });
  },

  async refresh({ app, http }) {
    interface Pair {
      accessToken: string;
      refreshToken: string;
    }
    const tokens = app.get(TokenService);
    const login: Pair = await tokens.issueTokens({ id: 'alice', roles: ['admin'] });
    const refresh = (refreshToken: string) => http.post('/auth/refresh').send({ refresh_token: refreshToken });
    const me = (pair: Pair) => http.get('/me').set('Authorization', `Bearer ${pair.accessToken}`);

    const first = await refresh(login.refreshToken);
    expect(first.status).toBe(200);
    const next = first.body as Pair;
    expect(next.refreshToken).not.toBe(login.refreshToken);
    // A retry within the grace period, before the new token is used: the very same pair.
    const retry = await refresh(login.refreshToken);
    expect({ status: retry.status, body: retry.body as unknown }).toEqual({ status: 200, body: first.body as unknown });
    // The chain moves on; the old token is now reuse: 401, and the whole family is revoked.
    const rotated = await refresh(next.refreshToken);
    expect(rotated.status).toBe(200);
    const latest = rotated.body as Pair;
    expect((await me(latest)).status).toBe(200);
    expect((await refresh(login.refreshToken)).status).toBe(401);
    expect((await me(latest)).status).toBe(401);
    expect((await refresh(latest.refreshToken)).status).toBe(401);

    // Logout: the access token answers 401, its refresh token is dead too.
    const session: Pair = await tokens.issueTokens({ id: 'bob', roles: ['user'] });
    expect((await me(session)).body).toEqual({ id: 'bob' });
    expect((await http.post('/auth/logout').set('Authorization', `Bearer ${session.accessToken}`)).status).toBe(204);
    expect((await me(session)).status).toBe(401);
    expect((await refresh(session.refreshToken)).status).toBe(401);
  },

  async 'api-key'({ http }) {
    expect((await http.get('/jobs')).status).toBe(401);
    const wrong = await http.get('/jobs').set('X-API-Key', 'not-the-key');
    expect({ status: wrong.status, challenge: wrong.headers['www-authenticate'] as unknown }).toEqual({
      status: 401,
      challenge: 'ApiKey realm="api", header="x-api-key"',
    });
    const right = await http.get('/jobs').set('X-API-Key', 'ci-key-0123456789abcdef0123456789abcdef');
    expect({ status: right.status, body: right.body as unknown }).toEqual({ status: 200, body: { caller: 'ci', roles: ['deployer'] } });
  },
};

const runnable = snippets.filter((snippet) => snippet.runnable !== undefined);

describe.each(ADAPTERS)('the runnable snippets, running (%s)', (adapter) => {
  describe.each(runnable.map((snippet) => [`${snippet.page}:${snippet.line} (${snippet.runnable})`, snippet] as const))('%s', (_where, snippet) => {
    let running: Running;

    beforeAll(async () => {
      const { AppModule } = (await import(join(OUT, snippet.file))) as { AppModule: new () => unknown };
      const { app, http } = await bootApp(adapter, { imports: [AppModule] });
      running = { app, http, adapter, token: (principal) => app.get(TokenService).issueAccessToken(principal).accessToken };
    });
    afterAll(() => running?.app.close());

    it('does what its page says', async () => {
      const scenario = SCENARIOS[snippet.runnable ?? ''];
      expect(scenario).toBeDefined();
      await scenario?.(running);
    });
  });
});
