/**
 * Proves `@palisade/nest` works as published: builds and packs the library, installs the tarball
 * in a fresh ESM project and a fresh CommonJS project (outside the repository, so nothing resolves
 * to the workspace), boots an app there in plain JavaScript, type-checks a consumer against the
 * packed declarations, then adds the GraphQL, WebSocket and swagger packages to the ESM project and
 * boots an app with a resolver and a socket.io gateway there (and documents it).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, mustRun, runCommand, type CommandResult } from '../support/command.js';
import { acquireDistLock, REPO_ROOT } from '../support/dist-lock.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Besides the library's required peers, a consumer needs an HTTP platform. */
const PLATFORM = '@nestjs/platform-express';

/**
 * What the transports consumer (fixtures/transports.mjs) needs besides the library and its required
 * peers: GraphQL over Apollo (Express), socket.io gateways and their client, and the `ws` adapter
 * that `@palisade/nest/ws` extends, and `@nestjs/swagger` for `@palisade/nest/openapi`. Installed in
 * the ESM project only, after its type checks (which must see only the library's declared
 * dependencies), so the consumers before it load `@palisade/nest` without the optional peers.
 */
const TRANSPORT_PACKAGES = [
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@apollo/server',
  'graphql',
  '@as-integrations/express5',
  '@nestjs/websockets',
  '@nestjs/platform-socket.io',
  'socket.io-client',
  '@nestjs/platform-ws',
  'ws',
  '@nestjs/swagger',
];

const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const INSTALL_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 60_000;

/** The child environment: the test runner's, minus what would change how Node or npm behave in it. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_ENV;
  return env;
}

/** The library's required (non-optional) peer dependencies, read from its manifest. */
async function requiredPeers(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'libs', 'palisade', 'package.json'), 'utf8')) as {
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  return Object.keys(manifest.peerDependencies ?? {}).filter((name) => manifest.peerDependenciesMeta?.[name]?.optional !== true);
}

/** `name@version` for a package at the version installed in the repository. */
async function atRepoVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return `${name}@${manifest.version}`;
}

/** What the consumer scripts (fixtures/scenario.cjs) print. */
interface HttpOutcome {
  status: number;
  wwwAuthenticate: string | null;
  body: unknown;
}
interface ConsumerReport {
  format: 'esm' | 'cjs';
  anonymous: HttpOutcome;
  authenticated: HttpOutcome;
  wrongToken: HttpOutcome;
  open: HttpOutcome;
  tokenType: string;
  guardResolved: boolean;
  schemes: string[];
  oneMinuteMs: number;
  testingEntry: boolean;
  internalImport: string;
}

/** What a GraphQL reply and a socket.io message came to (fixtures/transports.mjs). */
interface GraphQLOutcome {
  status: number;
  data: Record<string, unknown> | null;
  errors: { message: string; code: unknown }[];
}
type SocketOutcome = { answer: unknown } | { exception: unknown };
interface TransportsReport {
  graphql: { anonymous: GraphQLOutcome; user: GraphQLOutcome; admin: GraphQLOutcome; open: GraphQLOutcome };
  socket: { anonymous: SocketOutcome; user: SocketOutcome; admin: SocketOutcome; twice: SocketOutcome };
  wsEntry: boolean | string;
  openapiEntry: { openapi: string; schemes: string[] } | string;
  graphiqlEntry: string;
}

/** The consumer projects, by module format: their directory and entry file. */
const FORMATS = {
  esm: { type: 'module', entry: 'consumer.mjs' },
  cjs: { type: 'commonjs', entry: 'consumer.cjs' },
} as const;
type Format = keyof typeof FORMATS;

describe('@palisade/nest as published', () => {
  let work: string | undefined;
  let tarball: string;
  let tarballFiles: string[];
  const projects = new Map<Format, string>();
  const runs = new Map<Format | 'transports', Promise<CommandResult>>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'palisade-package-'));
    const env = childEnv();

    const release = await acquireDistLock(120_000);
    let packJson: string;
    try {
      await mustRun('npm', ['run', 'build:lib'], { cwd: REPO_ROOT, timeoutMs: 120_000, env });
      packJson = await mustRun('npm', ['pack', '--workspace', '@palisade/nest', '--pack-destination', work, '--json'], {
        cwd: REPO_ROOT,
        timeoutMs: 60_000,
        env,
      });
    } finally {
      await release();
    }
    const [packed] = JSON.parse(packJson) as { filename: string }[];
    if (!packed) throw new Error(`npm pack printed no package: ${packJson}`);
    tarball = join(work, packed.filename);
    tarballFiles = (await mustRun('tar', ['-tzf', tarball], { cwd: work, timeoutMs: 30_000 }))
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => line.replace(/^package\//, ''));

    const peers = await Promise.all([...(await requiredPeers()), PLATFORM].map(atRepoVersion));
    const typesNode = await atRepoVersion('@types/node');
    const root = work;
    await Promise.all(
      (Object.keys(FORMATS) as Format[]).map(async (format) => {
        const { type, entry } = FORMATS[format];
        const dir = join(root, `${format}-consumer`);
        await mkdir(dir);
        await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: `palisade-${format}-consumer`, private: true, type }, null, 2)}\n`);
        // @types/node only for the type check, which runs in the ESM project.
        const extra = format === 'esm' ? [typesNode] : [];
        await mustRun('npm', ['install', ...INSTALL_FLAGS, tarball, ...peers, ...extra], { cwd: dir, timeoutMs: INSTALL_TIMEOUT_MS, env });
        await copyFile(join(FIXTURES, 'scenario.cjs'), join(dir, 'scenario.cjs'));
        await copyFile(join(FIXTURES, entry), join(dir, entry));
        projects.set(format, dir);
      }),
    );
  });

  afterAll(async () => {
    // Let running consumers finish (each has its own timeout) before their directory goes away.
    await Promise.allSettled(runs.values());
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  function project(format: Format): string {
    const dir = projects.get(format);
    if (dir === undefined) throw new Error(`the ${format} consumer project was not set up (see the beforeAll error)`);
    return dir;
  }

  it('packs dist/index.js and its declarations, without sources or specs', () => {
    expect(tarballFiles).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
    const specs = tarballFiles.filter((file) => /\.spec\./.test(file));
    expect(specs).toEqual([]);
    const sources = tarballFiles.filter((file) => /(^|\/)src\//.test(file) || (file.endsWith('.ts') && !file.endsWith('.d.ts')));
    expect(sources).toEqual([]);
  });

  describe.each(Object.keys(FORMATS) as Format[])('a fresh %s project', (format) => {
    let report: ConsumerReport;
    let result: CommandResult;

    beforeAll(async () => {
      const dir = project(format);
      const running = runCommand(process.execPath, [FORMATS[format].entry], { cwd: dir, timeoutMs: RUN_TIMEOUT_MS, env: childEnv() });
      runs.set(format, running);
      result = await running;
      const line = result.stdout.trim().split('\n').at(-1) ?? '';
      try {
        report = JSON.parse(line) as ConsumerReport;
      } catch {
        throw new Error(describeResult(`node ${FORMATS[format].entry} printed no JSON report`, result));
      }
    });

    it(`loads the public API with ${format === 'esm' ? 'import' : 'require (require(esm))'} and exits cleanly`, () => {
      // Exit code 0 with nothing on stderr: no crash, no warning, nothing left holding the event loop open.
      expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      expect(report.format).toBe(format);
      expect(report.schemes).toEqual(['jwt', 'api-key', 'basic']);
      expect(report.oneMinuteMs).toBe(60_000);
      // The second public entry point, @palisade/nest/testing.
      expect(report.testingEntry).toBe(true);
      // app.get(AuthGuard) is an instance of the exported AuthGuard: one copy of the library and of Nest.
      expect(report.guardResolved).toBe(true);
    });

    it('guards a route: 401 with a challenge without a token, 401 with a tampered one, 200 with an issued one', () => {
      expect(report.anonymous).toMatchObject({
        status: 401,
        wwwAuthenticate: expect.stringMatching(/^Bearer realm=/),
        body: { statusCode: 401, error: 'Unauthorized' },
      });
      expect(report.wrongToken).toMatchObject({ status: 401, wwwAuthenticate: expect.stringContaining('error="invalid_token"') });
      expect(report.tokenType).toBe('Bearer');
      expect(report.authenticated).toMatchObject({ status: 200, body: { id: 'consumer', scheme: 'jwt', roles: ['user'] } });
      // The @Public() route.
      expect(report.open).toMatchObject({ status: 200, body: { open: true } });
    });

    it('refuses a deep import of an internal file (exports map)', () => {
      expect(report.internalImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    });
  });

  describe('public types (fixtures/consumer.ts against the packed declarations)', () => {
    const COMPILER_OPTIONS = {
      target: 'ES2023',
      lib: ['ES2023'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      noEmit: true,
    };

    async function typeCheck(name: string, skipLibCheck: boolean): Promise<CommandResult> {
      const dir = project('esm');
      await copyFile(join(FIXTURES, 'consumer.ts'), join(dir, 'consumer.ts'));
      await writeFile(join(dir, name), `${JSON.stringify({ compilerOptions: { ...COMPILER_OPTIONS, skipLibCheck }, files: ['consumer.ts'] }, null, 2)}\n`);
      return runCommand(process.execPath, [TSC, '-p', name], { cwd: dir, timeoutMs: RUN_TIMEOUT_MS, env: childEnv() });
    }

    it('compile in a strict consumer project (skipLibCheck, as Nest projects are set up)', async () => {
      const result = await typeCheck('tsconfig.json', true);
      // tsc prints its diagnostics on stdout.
      expect({ code: result.code, diagnostics: result.stdout + result.stderr }).toEqual({ code: 0, diagnostics: '' });
    });

    it('are self-contained: they type-check with skipLibCheck off and only the declared dependencies installed', async () => {
      const result = await typeCheck('tsconfig.strict-lib.json', false);
      expect({ code: result.code, diagnostics: result.stdout + result.stderr }).toEqual({ code: 0, diagnostics: '' });
    });
  });

  // After the type checks: from here on the ESM project also holds the optional transport peers.
  describe('GraphQL resolvers and socket.io gateways (fixtures/transports.mjs, in the ESM project)', () => {
    let report: TransportsReport;
    let result: CommandResult;

    beforeAll(async () => {
      const dir = project('esm');
      const env = childEnv();
      const packages = await Promise.all(TRANSPORT_PACKAGES.map(atRepoVersion));
      await mustRun('npm', ['install', ...INSTALL_FLAGS, ...packages], { cwd: dir, timeoutMs: INSTALL_TIMEOUT_MS, env });
      await copyFile(join(FIXTURES, 'transports.mjs'), join(dir, 'transports.mjs'));
      const running = runCommand(process.execPath, ['transports.mjs'], { cwd: dir, timeoutMs: RUN_TIMEOUT_MS, env });
      runs.set('transports', running);
      result = await running;
      const line = result.stdout.trim().split('\n').at(-1) ?? '';
      try {
        report = JSON.parse(line) as TransportsReport;
      } catch {
        throw new Error(describeResult('node transports.mjs printed no JSON report', result));
      }
    });

    it('packs the @palisade/nest/ws entry point, which resolves in the consumer', () => {
      expect(tarballFiles).toEqual(expect.arrayContaining(['dist/ws/index.js', 'dist/ws/index.d.ts']));
      expect(report.wsEntry).toBe(true);
    });

    it('packs the @palisade/nest/openapi entry point, which documents the app once @nestjs/swagger is installed', () => {
      expect(tarballFiles).toEqual(expect.arrayContaining(['dist/openapi/index.js', 'dist/openapi/index.d.ts']));
      expect(report.openapiEntry).toEqual({ openapi: '3.1.0', schemes: ['bearer'] });
    });

    it('packs the @palisade/nest/graphiql entry point, which loads without its optional peers and names them when built', () => {
      expect(tarballFiles).toEqual(expect.arrayContaining(['dist/graphiql/index.js', 'dist/graphiql/index.d.ts']));
      expect(report.graphiqlEntry).toMatch(
        /^GraphiqlModule: the package '(react|react-dom|graphiql)' is not installed; .*Install graphiql@3, react@18 and react-dom@18/,
      );
    });

    it('boots and exits cleanly', () => {
      expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    });

    it('judges a schema-first Apollo resolver: UNAUTHENTICATED, FORBIDDEN, then the data; @Public() answers anyone', () => {
      expect(report.graphql).toEqual({
        anonymous: { status: 200, data: { secret: null }, errors: [{ message: 'Authentication required', code: 'UNAUTHENTICATED' }] },
        user: { status: 200, data: { secret: null }, errors: [{ message: 'Insufficient role', code: 'FORBIDDEN' }] },
        admin: { status: 200, data: { secret: 'the secret' }, errors: [] },
        open: { status: 200, data: { hello: 'hello' }, errors: [] },
      });
    });

    it('judges a socket.io message on the handshake: exception events without the role or with two tokens, the answer with auth.token of an admin', () => {
      expect(report.socket).toEqual({
        anonymous: {
          exception: { status: 'error', statusCode: 401, error: 'Unauthorized', message: 'Authentication required', code: 'UNAUTHENTICATED' },
        },
        user: { exception: { status: 'error', statusCode: 403, error: 'Forbidden', message: 'Insufficient role', code: 'FORBIDDEN' } },
        admin: { answer: { report: 7, for: 'admin' } },
        twice: { exception: { status: 'error', statusCode: 401, error: 'Unauthorized', message: 'Invalid credentials', code: 'UNAUTHENTICATED' } },
      });
    });
  });
});
