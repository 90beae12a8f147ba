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

/**
 * Shared token store on Redis: atomic Lua scripts, one round trip per operation. With a
 * {@link RevocationMirror}, a revocation check whose answer is mirrored costs no round trip.
 */
export class RedisTokenStore implements TokenStore {
  private readonly client: ScriptClient;

  constructor(
    client: Redis | Cluster,
    private readonly prefix: string,
    private readonly mirror?: RevocationMirror,
  ) {
    client.defineCommand('palisadeSaveRefresh', { lua: SAVE, numberOfKeys: 3 });
    client.defineCommand('palisadeFindRefresh', { lua: FIND, numberOfKeys: 2 });
    client.defineCommand('palisadeRotateRefresh', { lua: ROTATE, numberOfKeys: 5 });
    client.defineCommand('palisadeRevokeFamily', { lua: REVOKE_FAMILY, numberOfKeys: 2 });
    this.client = client as ScriptClient;
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
    const flat = await this.client.palisadeRevokeFamily(family, `${family}:at`);
    const result = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) result.set(flat[i] as string, Number(flat[i + 1]));
    return result;
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    // PX takes an integer: an absurd `exp` (1e300) must not become "1e+303".
    const ttl = Math.min(Math.ceil(expiresAt - Date.now()), Number.MAX_SAFE_INTEGER);
    if (ttl > 0) await this.client.set(`${this.prefix}revoked:${jti}`, '1', 'PX', ttl);
    this.mirror?.forget(jti);
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
