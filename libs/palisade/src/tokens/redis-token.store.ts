import type { Redis } from 'ioredis';
import type { RevocationMirror } from './revocation-mirror.js';
import type { ConsumeResult, RefreshTokenRecord, TokenStore } from './token-store.interface.js';

// A family is one hash `<prefix>{fam:<id>}` (fields: revoked, exp) plus `<prefix>{fam:<id>}:rt:<digest>`
// hashes (fields: rec, used) and `<prefix>{fam:<id>}:at` (jti → exp). The hash tag keeps a family's
// keys in one Redis Cluster slot, so its scripts are atomic there too.
const SAVE = `
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return 0 end
local famExp = tonumber(ARGV[3])
redis.call('HSETNX', KEYS[1], 'revoked', '0')
redis.call('HSET', KEYS[1], 'exp', famExp)
redis.call('HSET', KEYS[2], 'rec', ARGV[1], 'used', '0')
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], famExp)
redis.call('PEXPIREAT', KEYS[2], famExp)
redis.call('PEXPIREAT', KEYS[3], famExp)
return 1
`;

const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return {'revoked'} end
local used = redis.call('HGET', KEYS[2], 'used')
if not used then return {'missing'} end
if used == '1' then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return {'reused'}
end
redis.call('HSET', KEYS[2], 'used', '1')
return {'ok', redis.call('HGET', KEYS[2], 'rec')}
`;

const REVOKE_FAMILY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], 'revoked', '1')
return redis.call('HGETALL', KEYS[2])
`;

type ScriptClient = Redis & {
  palisadeSaveRefresh(k1: string, k2: string, k3: string, rec: string, jti: string, famExp: number, accessExp: number): Promise<number>;
  palisadeConsumeRefresh(k1: string, k2: string): Promise<string[]>;
  palisadeRevokeFamily(k1: string, k2: string): Promise<string[]>;
};

/**
 * Shared token store on Redis: atomic Lua scripts, one round trip per operation. With a
 * {@link RevocationMirror}, a revocation check whose answer is mirrored costs no round trip.
 */
export class RedisTokenStore implements TokenStore {
  private readonly client: ScriptClient;

  constructor(
    client: Redis,
    private readonly prefix: string,
    private readonly mirror?: RevocationMirror,
  ) {
    client.defineCommand('palisadeSaveRefresh', { lua: SAVE, numberOfKeys: 3 });
    client.defineCommand('palisadeConsumeRefresh', { lua: CONSUME, numberOfKeys: 2 });
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
      ))
    );
  }

  async consumeRefreshToken(familyId: string, digest: string): Promise<ConsumeResult> {
    const family = this.family(familyId);
    const [status, payload] = await this.client.palisadeConsumeRefresh(family, `${family}:rt:${digest}`);
    if (status === 'ok' && typeof payload === 'string') return { status: 'ok', record: JSON.parse(payload) as RefreshTokenRecord };
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
