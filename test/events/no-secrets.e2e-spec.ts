/**
 * Nothing Palisade or the demo logs ever contains a secret. The demo AppModule runs in-process
 * with known secrets (JWT secret, API key, passwords) and a logger that records every call; stdout,
 * stderr and the console are spied on too, and a `@SecurityEventSink()` keeps every event. A full
 * scenario (logins right and wrong, tokens used, tampered, refreshed, reused and revoked, API keys
 * and Basic credentials right and wrong) runs, then everything captured is scanned for the secrets.
 */
import { Logger, type INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';
import { bootWithLogger, captureProcessOutput, CollectingSink, RecordingLogger, type CapturedOutput } from '../support/events.js';
import { b64url } from '../support/tokens.js';
import { httpOf } from '../support/token-app.js';

/** 40 characters: the demo's HS256 secret in this test. */
const JWT_SECRET = 'NoSecretsJwt-7Kq2Vx9Lm4Pz8Rt1Wy6Bn3Hs5Dg';
const API_KEY = 'no-secrets-api-key-Xc7Jd2Qe9Mf4Lk8Wp1Rv';
const WRONG_API_KEY = 'no-secrets-wrong-key-Gh5Tz0Nb6Ys3Ua8Oe';
const ALICE_PASSWORD = 'alice-password';
const BOB_PASSWORD = 'bob-password';
const WRONG_PASSWORD = 'wrong-Password-Qm3Zr8Lp0Vd';
const UNKNOWN_USER_PASSWORD = 'mallory-Guess-Ke7Hw2Jn5';

interface TokenPair {
  access_token: string;
  refresh_token: string;
}

const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`, 'utf8').toString('base64');

/** The pieces of a JWT that must never be logged: the token, its payload and its signature. */
const jwtParts = (token: string): string[] => [token, ...token.split('.').slice(1)];
/** A refresh token and its secret half (the part after the family id). */
const refreshParts = (token: string): string[] => [token, token.split('.')[1] ?? token];

/** The access token with its payload rewritten (roles escalated), signature kept: a forgery. */
function tampered(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${header}.${b64url({ ...claims, roles: ['admin', 'root'] })}.${signature}`;
}

describe.each(ADAPTERS)('no secret is ever logged (demo AppModule) on %s', (adapter) => {
  const logger = new RecordingLogger();
  let output: CapturedOutput;
  let app: INestApplication;

  beforeAll(async () => {
    output = captureProcessOutput();
    const config = loadConfig({ JWT_SECRET, DEMO_API_KEY: API_KEY });
    ({ app } = await bootWithLogger(adapter, { imports: [AppModule.register(config)], providers: [CollectingSink] }, logger));
  });

  afterAll(async () => {
    await app?.close();
    output?.restore();
  });

  it('runs the scenario, then finds none of the secrets in any logged line, printed chunk or event', async () => {
    const secrets = new Map<string, string>([
      ['JWT secret', JWT_SECRET],
      ['API key', API_KEY],
      ['wrong API key', WRONG_API_KEY],
      ["alice's password", ALICE_PASSWORD],
      ["bob's password", BOB_PASSWORD],
      ['wrong password', WRONG_PASSWORD],
      ["unknown user's password", UNKNOWN_USER_PASSWORD],
    ]);
    const remember = (label: string, values: readonly string[]): void => values.forEach((value, i) => secrets.set(`${label} #${i}`, value));
    const statuses: [string, number, number][] = [];
    const expectStatus = (step: string, res: Response, status: number): Response => {
      statuses.push([step, res.status, status]);
      return res;
    };
    const http = () => httpOf(app);
    const login = async (step: string, username: string, password: string, status: number): Promise<Response> =>
      expectStatus(step, await http().post('/auth/login').send({ username, password }), status);
    const bearer = async (step: string, path: string, token: string, status: number): Promise<Response> =>
      expectStatus(step, await http().get(path).set('Authorization', `Bearer ${token}`), status);

    // Logins: right, wrong password, unknown user.
    const alice = (await login('login alice', 'alice', ALICE_PASSWORD, 200)).body as TokenPair;
    await login('login alice, wrong password', 'alice', WRONG_PASSWORD, 401);
    await login('login unknown user', 'mallory', UNKNOWN_USER_PASSWORD, 401);
    const bob = (await login('login bob', 'bob', BOB_PASSWORD, 200)).body as TokenPair;

    // The token, a tampered copy, and a role the token lacks.
    await bearer('GET /me with the token', '/me', alice.access_token, 200);
    await bearer('GET /admin with the token', '/admin', alice.access_token, 200);
    const forged = tampered(bob.access_token);
    await bearer('GET /me with a tampered token', '/me', forged, 401);
    await bearer("GET /admin with bob's token", '/admin', bob.access_token, 403);

    // API key, right and wrong.
    expectStatus('GET /me with the API key', await http().get('/me').set('X-Api-Key', API_KEY), 200);
    expectStatus('GET /me with a wrong API key', await http().get('/me').set('X-Api-Key', WRONG_API_KEY), 401);

    // Basic, right and wrong.
    const basicRight = basic('alice', ALICE_PASSWORD);
    const basicWrong = basic('alice', WRONG_PASSWORD);
    expectStatus('GET /me with Basic', await http().get('/me').set('Authorization', `Basic ${basicRight}`), 200);
    expectStatus('GET /me with a wrong Basic password', await http().get('/me').set('Authorization', `Basic ${basicWrong}`), 401);

    // Refresh twice, then reuse the first refresh token (its family is revoked), then the revoked access token.
    const first = expectStatus('refresh', await http().post('/auth/refresh').send({ refresh_token: alice.refresh_token }), 200).body as TokenPair;
    const rotated = expectStatus('refresh again', await http().post('/auth/refresh').send({ refresh_token: first.refresh_token }), 200).body as TokenPair;
    expectStatus('reuse a refresh token', await http().post('/auth/refresh').send({ refresh_token: alice.refresh_token }), 401);
    expectStatus('refresh in the revoked family', await http().post('/auth/refresh').send({ refresh_token: rotated.refresh_token }), 401);
    await bearer('GET /me with an access token of the revoked family', '/me', rotated.access_token, 401);

    // Logout, then the logged-out token.
    const again = (await login('login alice again', 'alice', ALICE_PASSWORD, 200)).body as TokenPair;
    await bearer('GET /me before logout', '/me', again.access_token, 200);
    expectStatus('logout', await http().post('/auth/logout').set('Authorization', `Bearer ${again.access_token}`), 204);
    await bearer('GET /me after logout', '/me', again.access_token, 401);

    expect(statuses.filter(([, actual, expected]) => actual !== expected)).toEqual([]);

    remember(
      'access token part',
      [alice, bob, rotated, again].flatMap((pair) => jwtParts(pair.access_token)),
    );
    remember('tampered token part', jwtParts(forged));
    remember(
      'refresh token part',
      [alice, bob, rotated, again].flatMap((pair) => refreshParts(pair.refresh_token)),
    );
    remember('Basic credential', [basicRight, basicWrong]);

    // Canaries through every captured channel, to prove the scan would see a leak there.
    const canaries = ['no-secrets-canary:nest-logger', 'no-secrets-canary:stdout', 'no-secrets-canary:stderr', 'no-secrets-canary:console'];
    new Logger('NoSecretsCanary').warn(canaries[0]);
    process.stdout.write(`${canaries[1]}\n`);
    process.stderr.write(`${canaries[2]}\n`);
    // oxlint-disable-next-line no-console -- a canary: the console is one of the scanned channels
    console.warn(canaries[3]);

    // Everything captured: logger calls (every argument), stdout/stderr/console, and the events.
    const events = app.get(CollectingSink).events;
    const captured = [...logger.lines.flatMap((line) => line.args), ...output.text(), ...events.map((event) => JSON.stringify(event))];

    expect(canaries.filter((canary) => !captured.some((line) => line.includes(canary)))).toEqual([]);
    // The capture is not vacuous: boot lines, and one security log line per kind of event of the scenario.
    expect(logger.lines.length).toBeGreaterThan(10);
    const securityTypes = new Set(logger.linesOf('PalisadeSecurity').map((line) => (JSON.parse(line.message) as { type: string }).type));
    for (const type of ['authentication.failed', 'access.denied', 'refresh-token.reused', 'token.revoked', 'attack.detected'])
      expect(securityTypes).toContain(type);
    expect(events.filter((event) => event.type === 'authentication.failed').length).toBeGreaterThanOrEqual(6);

    const leaks: { secret: string; line: string }[] = [];
    for (const line of captured) {
      for (const [label, secret] of secrets) if (line.includes(secret)) leaks.push({ secret: label, line: line.slice(0, 300) });
    }
    expect(leaks).toEqual([]);
  });
});
