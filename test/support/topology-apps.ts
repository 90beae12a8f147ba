import { Controller, Get, type INestApplication } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { expect } from 'vitest';
import { PalisadeModule, Public, Throttle } from '@palisade/nest';
import { bootApp, type AdapterName } from './app.js';
import { CollectingSink } from './events.js';
import request from 'supertest';
import { until } from './redis-topologies.js';
import { baseUrl, get, RequestTimeout, THROTTLE_UNAVAILABLE, uniqueIp, type PlainResponse } from './throttle.js';
import { OpenController, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenLifecycleController, WhoAmIController, type TokenResponse } from './token-app.js';
import { TEST_SECRET } from './tokens.js';

/**
 * Apps on a Redis Cluster or a Sentinel-managed primary, for the topology suites: throttling
 * (fail-closed: 503 + `Retry-After: 1` while the store cannot answer), brute-force protection and
 * the token lifecycle, all on the client the test created (`storage: { redis: client }`).
 */

/** Requests per window per client on GET /ping (window: one minute) and GET /window (one hour). */
export const PING_LIMIT = 10;
/** Failed authentications per client before the block. */
export const FAILURES_LIMIT = 3;
/** The command timeout of every client the topology suites create, in milliseconds. */
export const COMMAND_TIMEOUT_MS = 400;

/** Palisade's 503 body while the token store cannot answer (the throttle store's: `THROTTLE_UNAVAILABLE`). */
export const TOKENS_UNAVAILABLE = {
  statusCode: 503,
  error: 'Service Unavailable',
  message: 'Token verification is temporarily unavailable; retry shortly',
} as const;

@Controller()
class PingController {
  @Get('ping') @Public() ping() {
    return { pong: true };
  }

  /** The same limit over an hour: a scenario of several seconds never meets the window's end. */
  @Get('window') @Public() @Throttle({ default: { ttl: '1h' } }) window() {
    return { pong: true };
  }
}

/** The throttle counter (a hash, hits of the current window in `c`) of client `ip` on GET /window. */
export const windowKey = (prefix: string, ip: string): string => `${prefix}{ip:${ip}}:PingController.window:default`;

/** One app instance (with its own client and its collected events). */
export interface TopologyInstance {
  app: INestApplication;
  url: string;
  events: CollectingSink;
  client: Redis | Cluster;
}

/**
 * Boots one instance on `adapter` whose stores use `client` (a Cluster or a Sentinel-backed
 * client, passed as it is: `storage.redis` takes either).
 */
export async function bootInstance(adapter: AdapterName, client: Redis | Cluster, prefix: string): Promise<TopologyInstance> {
  const { app } = await bootApp(adapter, {
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE } },
        trustProxy: 'loopback',
        tokens: { storage: { redis: client, prefix, commandTimeout: COMMAND_TIMEOUT_MS } },
        throttle: {
          throttlers: [{ name: 'default', limit: PING_LIMIT, ttl: '1m' }],
          storage: { redis: client, prefix, commandTimeout: COMMAND_TIMEOUT_MS },
          failOpen: false,
          authFailures: { limit: FAILURES_LIMIT, ttl: '1m', blockDuration: '1m' },
        },
        global: true,
      }),
    ],
    controllers: [PingController, TokenLifecycleController, WhoAmIController, OpenController],
    providers: [CollectingSink],
  });
  return { app, url: baseUrl(app), events: app.get(CollectingSink), client };
}

/** A request's outcome with its duration (client timeout: `timeoutMs`). */
export interface Timed {
  status: number;
  ms: number;
  response: PlainResponse | undefined;
  /** Set when no answer came within the client timeout. */
  timedOut: boolean;
}

/** GET `url` with optional headers, timed; a client timeout is an outcome, not an exception. */
export async function timedGet(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<Timed> {
  const started = performance.now();
  try {
    const response = await get(url, { headers, timeoutMs });
    return { status: response.status, ms: performance.now() - started, response, timedOut: false };
  } catch (error) {
    if (error instanceof RequestTimeout) return { status: 0, ms: performance.now() - started, response: undefined, timedOut: true };
    throw error;
  }
}

/** A request through the trusted loopback proxy from client `ip`. */
export const fromIp = (ip: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'X-Forwarded-For': ip, ...extra });

/**
 * Runs `send` with `concurrency` requests in flight until `stop()` says so, at most `maxRequests`
 * requests and `maxMs` milliseconds; returns every outcome in order of sending.
 */
export async function underLoad(
  send: (index: number) => Promise<Timed>,
  options: { concurrency: number; maxRequests: number; maxMs: number; stop: () => boolean },
): Promise<Timed[]> {
  const outcomes: Timed[] = [];
  const deadline = Date.now() + options.maxMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.maxRequests && Date.now() < deadline && !options.stop()) {
      const index = next++;
      // oxlint-disable-next-line no-await-in-loop -- each worker keeps one request in flight
      outcomes[index] = await send(index);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return outcomes.filter((outcome) => outcome !== undefined);
}

/**
 * Asserts the outage policy on every outcome: 200/204/401/429 as the route decides, or the
 * documented 503 (stable body, `Retry-After: 1`); never another 5xx, never a client timeout, and
 * never longer than `maxMs`.
 */
export function expectWithinPolicy(outcomes: readonly Timed[], maxMs: number): void {
  for (const outcome of outcomes) {
    expect(outcome.timedOut, 'a request got no answer').toBe(false);
    expect(outcome.ms, `a request took ${Math.round(outcome.ms)} ms`).toBeLessThan(maxMs);
    if (outcome.status >= 500) {
      expect(outcome.status).toBe(503);
      expect([THROTTLE_UNAVAILABLE, TOKENS_UNAVAILABLE]).toContainEqual(outcome.response?.body);
      expect(outcome.response?.headers['retry-after']).toBe('1');
    }
  }
}

/**
 * Token calls, each from a client IP never used before (through the trusted loopback proxy), so
 * the suites' many logins and refused tokens never meet a rate limit or a brute-force block.
 */
export async function loginFresh(instance: TopologyInstance, id: string): Promise<string> {
  const res = await request(instance.app.getHttpServer()).post('/auth/login').set('X-Forwarded-For', uniqueIp()).send({ id });
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
  return (res.body as TokenResponse).access_token;
}

/** POST /auth/logout with `token` from a fresh client IP; resolves with the status. */
export async function logoutFresh(instance: TopologyInstance, token: string): Promise<Timed> {
  const started = performance.now();
  const res = await request(instance.app.getHttpServer()).post('/auth/logout').set('X-Forwarded-For', uniqueIp()).set('Authorization', `Bearer ${token}`);
  return {
    status: res.status,
    ms: performance.now() - started,
    response: { status: res.status, headers: res.headers as PlainResponse['headers'], rawHeaders: [], body: res.body as unknown },
    timedOut: false,
  };
}

/** GET /me with `token` from a fresh client IP. */
export function meFresh(instance: TopologyInstance, token: string): Promise<Timed> {
  return timedGet(`${instance.url}/me`, fromIp(uniqueIp(), { Authorization: `Bearer ${token}` }));
}

/** Asserts GET /me refused `token` as invalid (revoked): 401 with the stable body. */
export function expectRevoked(outcome: Timed): void {
  expect({ status: outcome.status, body: outcome.response?.body }).toEqual({
    status: 401,
    body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid credentials' },
  });
}

/** The `jti` claim of a JWT (test helper: no verification). */
export function jtiOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as { jti: string }).jti;
}

/**
 * Asserts the outage was reported: some instance emitted `store.unavailable` for the throttle
 * store (fail-closed), and every instance that did emitted `store.recovered` after it.
 */
export function expectOutageReported(instances: readonly TopologyInstance[]): void {
  const throttleEvents = (instance: TopologyInstance) =>
    instance.events.events.filter((e) => (e.type === 'store.unavailable' || e.type === 'store.recovered') && (e as { store?: string }).store === 'throttle');
  const reporting = instances.filter((instance) => throttleEvents(instance).some((e) => e.type === 'store.unavailable'));
  expect(reporting.length, 'instances that reported the outage').toBeGreaterThan(0);
  for (const instance of reporting) {
    const throttle = throttleEvents(instance);
    expect(throttle.find((e) => e.type === 'store.unavailable')).toMatchObject({ policy: 'fail-closed' });
    expect(throttle.at(-1)?.type).toBe('store.recovered');
  }
}

/** What {@link limitAcrossFailover} needs of a topology (the Cluster and the Sentinel group have it). */
export interface FailoverTopology {
  /** Waits until the replica of the primary on `port` has applied its writes so far. */
  waitForReplicas(port: number): Promise<void>;
  /** Closes the primary's replication links and refuses their resync until it restarts. */
  cutReplication(port: number): Promise<void>;
  /** Kills (SIGKILL) the node on `port`. */
  kill(port: number): Promise<void>;
}

/** What a client was allowed across a failover, on GET /window (limit {@link PING_LIMIT}). */
export interface CountsAcrossFailover {
  /** Statuses before the kill, in order. */
  before: number[];
  /** The client's count on the promoted primary, before any request after the failover. */
  promoted: number;
  /** Statuses after the failover, in order (503s while the instances catch up left out). */
  after: number[];
  /** The client's count on the promoted primary after the last request. */
  final: number;
  /** From the kill to the promotion `failover()` waited for, in milliseconds (for the report). */
  failoverMs: number;
}

/**
 * Kills the primary holding client `ip`'s counter in the middle of its window, with a known part
 * of the counts replicated: `replicated` requests (all allowed), then a wait until the replica has
 * applied them; then the replication is cut and the rest of the limit is used up plus two
 * refusals, so those counts live on the primary only (what asynchronous replication loses when a
 * primary dies before its replica has them); then the primary is killed and `failover()` awaited. Reads the promoted count (`counter()`), then sends requests, one at a time
 * over the instances, until three in a row are refused, and reads the count again. Requests go to GET /window (one-hour
 * window), so the whole scenario lies within one window.
 */
export async function limitAcrossFailover(options: {
  instances: readonly TopologyInstance[];
  topology: FailoverTopology;
  /** Port of the primary serving `ip`'s counter. */
  primaryPort: number;
  ip: string;
  replicated: number;
  failover: () => Promise<void>;
  counter: () => Promise<number>;
}): Promise<CountsAcrossFailover> {
  const { instances, topology, primaryPort, ip, replicated } = options;
  let sent = 0;
  const send = async (): Promise<number> => (await timedGet(`${(instances[sent++ % instances.length] as TopologyInstance).url}/window`, fromIp(ip))).status;
  const before: number[] = [];
  for (let i = 0; i < replicated; i++) before.push(await send());
  await topology.waitForReplicas(primaryPort);
  await topology.cutReplication(primaryPort);
  for (let i = replicated; i < PING_LIMIT + 2; i++) before.push(await send());
  await topology.kill(primaryPort);
  const killedAt = Date.now();
  await options.failover();
  const failoverMs = Date.now() - killedAt;
  const read = async (): Promise<number> => {
    let count = -1;
    await until(
      async () => {
        count = await options.counter();
        return true;
      },
      10_000,
      () => 'the counter cannot be read on the promoted primary',
      100,
    );
    return count;
  };
  const promoted = await read();
  const after: number[] = [];
  await until(
    async () => {
      const status = await send();
      if (status !== 503) after.push(status);
      return after.length >= PING_LIMIT + 3 || (after.length >= 3 && after.slice(-3).every((s) => s === 429));
    },
    20_000,
    () => `the instances did not answer after the failover (so far: ${after.join(', ')})`,
    20,
  );
  return { before, promoted, after, final: await read(), failoverMs };
}

/**
 * Asserts the bound a failover puts on a limit of N ({@link PING_LIMIT}) per window, for
 * {@link limitAcrossFailover}'s outcome: the counts replicated before the kill survive (the
 * promoted count is `replicated`: the N - `replicated` cut off are the loss), so at most
 * N - `replicated` more are allowed — at most 2N in the window across one failover — and the
 * limit then holds exactly again: refusals only, the counter at N.
 */
export function expectBoundedLoss(outcome: CountsAcrossFailover, replicated: number): void {
  const { before, promoted, after, final } = outcome;
  expect(before, 'before the kill: the limit, then refusals').toEqual([...Array.from({ length: PING_LIMIT }, () => 200), 429, 429]);
  expect(promoted, 'the count the promoted replica holds: the replicated hits, not the ones after the cut').toBe(replicated);
  const allowedAfter = after.filter((status) => status === 200).length;
  expect(allowedAfter, 'allowed after the failover').toBeLessThanOrEqual(PING_LIMIT - replicated);
  expect(PING_LIMIT + allowedAfter, 'allowed in the window across the failover').toBeLessThanOrEqual(2 * PING_LIMIT);
  expect(after, 'after the failover: the rest of the limit, then refusals only').toEqual([
    ...Array.from({ length: allowedAfter }, () => 200),
    ...Array.from({ length: after.length - allowedAfter }, () => 429),
  ]);
  expect(after.slice(-3)).toEqual([429, 429, 429]);
  expect(final, 'the counter once the limit holds again').toBe(PING_LIMIT);
}
