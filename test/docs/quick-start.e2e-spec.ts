/**
 * The README's quick start, exactly as written: extracted from README.md, type-checked with the
 * repository's strict compiler options, then booted and driven over HTTP on both adapters.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, bootApp } from '../support/app.js';
import { runCommand } from '../support/command.js';
import { REPO_ROOT } from '../support/dist-lock.js';

const GENERATED = join(REPO_ROOT, 'test', 'docs', '.generated');
const SNIPPET = join(GENERATED, 'quick-start.ts');

/** The first TypeScript block of the README's "Quick start" section. */
async function quickStart(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no TypeScript block under "## Quick start"');
  return match[1];
}

let code: string;
beforeAll(async () => {
  code = await quickStart();
  await mkdir(GENERATED, { recursive: true });
  await writeFile(SNIPPET, code);
  await writeFile(
    join(GENERATED, 'tsconfig.json'),
    `${JSON.stringify({ extends: '../../../tsconfig.json', include: ['quick-start.ts'], compilerOptions: { noEmit: true } }, null, 2)}\n`,
  );
});

describe('the README quick start', () => {
  it('is at most 25 lines of code', () => {
    expect(code.split('\n').filter((line) => line.trim().length > 0).length).toBeLessThanOrEqual(25);
  });

  it('type-checks under the repository’s strict options', async () => {
    const result = await runCommand(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(GENERATED, 'tsconfig.json')], {
      cwd: REPO_ROOT,
      timeoutMs: 120_000,
    });
    expect({ code: result.code, diagnostics: result.stdout + result.stderr }).toEqual({ code: 0, diagnostics: '' });
  }, 130_000);
});

describe.each(ADAPTERS)('the README quick start, running (%s)', (adapter) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    process.env.JWT_SECRET ??= 'quick-start-secret-0123456789abcdef-0123456789';
    const { AppModule } = (await import(SNIPPET)) as { AppModule: new () => unknown };
    // Fastify parses no form bodies by default: the one line the README's token endpoint section names.
    ({ app, http } = await bootApp(adapter, { imports: [AppModule] }, false, (created) => {
      if (adapter === 'fastify')
        (created as NestFastifyApplication).useBodyParser('application/x-www-form-urlencoded', {}, async (_request: unknown, body: Buffer) => body);
    }));
  });
  afterAll(() => app.close());

  it('logs alice in through the password grant, and her token reads /reports (admin implies analyst)', async () => {
    const login = await http.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(200);
    const { access_token: token } = login.body as { access_token: string };
    const reports = await http.get('/reports').set('Authorization', `Bearer ${token}`);
    expect({ status: reports.status, body: reports.body as unknown }).toEqual({ status: 200, body: { owner: 'alice' } });
    // Security headers on every response.
    expect(reports.headers['x-content-type-options']).toBe('nosniff');
    expect(reports.headers['content-security-policy']).toBeDefined();
  });

  it('refuses a wrong password (400 invalid_grant) and an anonymous /reports (401)', async () => {
    const wrong = await http.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'nope' });
    expect({ status: wrong.status, error: (wrong.body as { error?: string }).error }).toEqual({ status: 400, error: 'invalid_grant' });
    expect((await http.get('/reports')).status).toBe(401);
  });
});
