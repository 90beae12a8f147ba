import type { Cluster, Redis } from 'ioredis';
import type { RevocationMirror } from './revocation-mirror.js';
import type { RefreshRotation, RefreshRotationResult, RefreshTokenLookup, RefreshTokenRecord, TokenStore } from './token-store.interface.js';

// A family is one hash `<prefix>{fam:<id>}` (fields: revoked, exp, head — the newest token's digest)
// plus `<prefix>{fam:<id>}:rt:<digest>` hashes (fields: rec, used), `<prefix>{fam:<id>}:at`
// (jti → exp) and, for the grace period after a rotation, `<prefix>{fam:<id>}:rt:<digest>:grace`
// (fields: succ, pair; expires with the period). The hash tag keeps a family's keys in one Redis
// Cluster slot, so its scripts are atomic there too.
const SAVE = `
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return 0 end
local famExp = tonumber(ARGV[3])
redis.call('HSETNX', KEYS[1], 'revoked', '0')
redis.call('HSET', KEYS[1], 'exp', famExp, 'head', ARGV[5])
redis.call('HSET', KEYS[2], 'rec', ARGV[1], 'used', '0')
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], famExp)
redis.call('PEXPIREAT', KEYS[2], famExp)
redis.call('PEXPIREAT', KEYS[3], famExp)
return 1
`;

const FIND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return {'revoked'} end
local rec = redis.call('HGET', KEYS[2], 'rec')
if not rec then return {'missing'} end
return {'ok', rec}
`;

// KEYS: family, presented token, successor token, access tokens, presented token's grace.
// ARGV: successor record, access jti, family expiry, access expiry, successor digest, sealed pair, grace ms.
const ROTATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return {'revoked'} end
local used = redis.call('HGET', KEYS[2], 'used')
if not used then return {'missing'} end
if used == '1' then
  local grace = redis.call('HMGET', KEYS[5], 'succ', 'pair')
  if grace[1] and grace[2] and redis.call('HGET', KEYS[1], 'head') == grace[1] then return {'grace', grace[2]} end
  redis.call('HSET', KEYS[1], 'revoked', '1')
  redis.call('DEL', KEYS[5])
  return {'reused'}
end
local famExp = tonumber(ARGV[3])
redis.call('HSET', KEYS[2], 'used', '1')
redis.call('HSET', KEYS[3], 'rec', ARGV[1], 'used', '0')
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[1], 'head', ARGV[5])
redis.call('PEXPIREAT', KEYS[3], famExp)
redis.call('PEXPIREAT', KEYS[4], famExp)
local graceMs = tonumber(ARGV[7])
if graceMs > 0 then
  redis.call('HSET', KEYS[5], 'succ', ARGV[5], 'pair', ARGV[6])
  redis.call('PEXPIRE', KEYS[5], graceMs)
end
return {'rotated'}
`;

const REVOKE_FAMILY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], 'revoked', '1')
return redis.call('HGETALL', KEYS[2])
`;

type ScriptClient = (Redis | Cluster) & {
  palisadeSaveRefresh(k1: string, k2: string, k3: string, rec: string, jti: string, famExp: number, accessExp: number, head: string): Promise<number>;
  palisadeFindRefresh(k1: string, k2: string): Promise<string[]>;
  palisadeRotateRefresh(
    k1: string,
    k2: string,
    k3: string,
    k4: string,
    k5: string,
    rec: string,
    jti: string,
    famExp: number,
    accessExp: number,
    successor: string,
    sealedPair: string,
    graceMs: number,
  ): Promise<string[]>;
  palisadeRevokeFamily(k1: string, k2: string): Promise<string[]>;
};

/** Thrown when a revocation was written but no replica acknowledged it within the wait. */
export class RevocationNotReplicatedError extends Error {
  constructor(replicas: number, waitMs: number) {
    super(
      `RedisTokenStore: a revocation was written on the primary but none of its ${replicas} replica(s) acknowledged it within ${waitMs} ms; it could be lost in a failover`,
    );
    this.name = 'RevocationNotReplicatedError';
  }
}

/** The replicas a primary lists in its `ROLE` reply (0 for a replica or an unexpected reply). */
function connectedReplicas(role: unknown): number {
  return Array.isArray(role) && role[0] === 'master' && Array.isArray(role[2]) ? role[2].length : 0;
}

/** The pipeline replies, or the first error among them. */
function repliesOf(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('RedisTokenStore: the pipeline was discarded');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/**
 * The client's command timeout in milliseconds (a Cluster's per-node `redisOptions`), if any.
 * @internal
 */
export function commandTimeoutOf(client: Redis | Cluster): number | undefined {
  const options = client.options as { commandTimeout?: number; redisOptions?: { commandTimeout?: number } };
  return options.commandTimeout ?? options.redisOptions?.commandTimeout;
}

/**
 * Shared token store on Redis (a single server, a Sentinel-managed primary or a Redis Cluster):
 * atomic Lua scripts, each on the keys of one hash slot, one round trip per operation. With a
 * {@link RevocationMirror}, a revocation check whose answer is mirrored costs no round trip.
 *
 * Revocations (an access token, a family) are durable across a failover once acknowledged: the
 * write and a `ROLE` go in one round trip to the key's primary; when it has replicas, a second
 * round trip `WAIT 1 <replicationWaitMs>` waits for one of them to hold the write, and the call
 * fails ({@link RevocationNotReplicatedError}, a 503 for the logout) when none does in time — the
 * revocation is still in force on the primary, but the caller was not told it was durable. A
 * primary without connected replicas has nothing to fail over to: no wait.
 */
export class RedisTokenStore implements TokenStore {
  private readonly client: ScriptClient;
  private readonly replicationWaitMs: number;

  /**
   * @param replicationWaitMs how long a revocation waits for a replica's acknowledgement, in
   *   milliseconds; default 80 % of the client's command timeout (100 ms without one), so `WAIT`
   *   answers before the command would time out.
   */
  constructor(
    client: Redis | Cluster,
    private readonly prefix: string,
    private readonly mirror?: RevocationMirror,
    replicationWaitMs?: number,
  ) {
    client.defineCommand('palisadeSaveRefresh', { lua: SAVE, numberOfKeys: 3 });
    client.defineCommand('palisadeFindRefresh', { lua: FIND, numberOfKeys: 2 });
    client.defineCommand('palisadeRotateRefresh', { lua: ROTATE, numberOfKeys: 5 });
    client.defineCommand('palisadeRevokeFamily', { lua: REVOKE_FAMILY, numberOfKeys: 2 });
    this.client = client as ScriptClient;
    const timeout = commandTimeoutOf(client);
    this.replicationWaitMs = Math.max(1, Math.floor(replicationWaitMs ?? (timeout === undefined ? 100 : timeout * 0.8)));
  }

  /**
   * After a write whose pipeline also asked for `ROLE` (on the primary holding `key`): when that
   * primary has replicas, waits until one acknowledges every earlier write of this connection.
   * `EXISTS key` routes the `WAIT` to the key's node on a Cluster.
   */
  private async replicated(key: string, role: unknown): Promise<void> {
    const replicas = connectedReplicas(role);
    if (replicas === 0) return;
    const [, acknowledged] = repliesOf(await this.client.pipeline().exists(key).wait(1, this.replicationWaitMs).exec());
    if (Number(acknowledged) < 1) throw new RevocationNotReplicatedError(replicas, this.replicationWaitMs);
  }

  private family(familyId: string): string {
    return `${this.prefix}{fam:${familyId}}`;
  }

  async saveRefreshToken(familyId: string, digest: string, record: RefreshTokenRecord, accessJti: string, accessExpiresAt: number): Promise<boolean> {
    const family = this.family(familyId);
    return (
      1 ===
      (await this.client.palisadeSaveRefresh(
        family,
        `${family}:rt:${digest}`,
        `${family}:at`,
        JSON.stringify(record),
        accessJti,
        record.familyExpiresAt,
        accessExpiresAt,
        digest,
      ))
    );
  }

  async findRefreshToken(familyId: string, digest: string): Promise<RefreshTokenLookup> {
    const family = this.family(familyId);
    const [status, payload] = await this.client.palisadeFindRefresh(family, `${family}:rt:${digest}`);
    if (status === 'ok' && typeof payload === 'string') return { status: 'ok', record: JSON.parse(payload) as RefreshTokenRecord };
    return { status: status === 'revoked' ? status : 'missing' };
  }

  async rotateRefreshToken(familyId: string, digest: string, rotation: RefreshRotation): Promise<RefreshRotationResult> {
    const family = this.family(familyId);
    const presented = `${family}:rt:${digest}`;
    const [status, payload] = await this.client.palisadeRotateRefresh(
      family,
      presented,
      `${family}:rt:${rotation.digest}`,
      `${family}:at`,
      `${presented}:grace`,
      JSON.stringify(rotation.record),
      rotation.accessJti,
      rotation.record.familyExpiresAt,
      rotation.accessExpiresAt,
      rotation.digest,
      rotation.sealedPair,
      Math.max(0, Math.floor(rotation.graceMs)),
    );
    if (status === 'rotated') return { status };
    if (status === 'grace' && typeof payload === 'string') return { status, sealedPair: payload };
    return { status: status === 'reused' || status === 'revoked' ? status : 'missing' };
  }

  async revokeFamily(familyId: string): Promise<Map<string, number>> {
    const family = this.family(familyId);
    const pipeline = this.client.pipeline() as ReturnType<Redis['pipeline']> & { palisadeRevokeFamily(k1: string, k2: string): unknown };
    pipeline.palisadeRevokeFamily(family, `${family}:at`);
    const [flatReply, role] = repliesOf(await pipeline.role().exec());
    const flat = flatReply as string[];
    if (flat.length > 0) await this.replicated(family, role);
    const result = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) result.set(flat[i] as string, Number(flat[i + 1]));
    return result;
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    // PX takes an integer: an absurd `exp` (1e300) must not become "1e+303".
    const ttl = Math.min(Math.ceil(expiresAt - Date.now()), Number.MAX_SAFE_INTEGER);
    if (ttl <= 0) {
      this.mirror?.forget(jti);
      return;
    }
    const key = `${this.prefix}revoked:${jti}`;
    try {
      const [, role] = repliesOf(await this.client.pipeline().set(key, '1', 'PX', ttl).role().exec());
      await this.replicated(key, role);
    } finally {
      this.mirror?.forget(jti);
    }
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    const mirror = this.mirror;
    const mirrored = mirror?.get(jti);
    if (mirrored !== undefined) return mirrored;
    const epoch = mirror?.epoch ?? 0;
    const revoked = (await this.client.exists(`${this.prefix}revoked:${jti}`)) === 1;
    mirror?.remember(jti, revoked, epoch);
    return revoked;
  }

  /** The mirrored answer for `jti`, or `undefined` when only Redis can tell (no round trip here). */
  isAccessTokenRevokedSync(jti: string): boolean | undefined {
    return this.mirror?.get(jti);
  }
}
