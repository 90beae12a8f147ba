import type { Redis } from 'ioredis';
import { toSeconds, type ThrottleHit, type ThrottleStore, type ThrottlerStorageRecord } from './throttle-store.interface.js';

/**
 * Bumps N counters (KEYS) atomically with Redis's own clock, so app instances with skewed clocks
 * agree. ARGV holds (ttlMs, limit, blockMs) per key. Returns per key: hits, ms to window end,
 * blocked (0/1), ms to block end. All keys of one call share a hash tag, so the script is valid on
 * Redis Cluster.
 */
const INCREMENT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local ttl = tonumber(ARGV[i * 3 - 2])
  local limit = tonumber(ARGV[i * 3 - 1])
  local block = tonumber(ARGV[i * 3])
  local v = redis.call('HMGET', key, 'h', 'w', 'b')
  local hits = tonumber(v[1]) or 0
  local wend = tonumber(v[2]) or 0
  local bend = tonumber(v[3]) or 0
  if bend > now then
    table.insert(out, hits); table.insert(out, wend - now); table.insert(out, 1); table.insert(out, bend - now)
  else
    if wend <= now or bend > 0 then
      hits = 0; wend = now + ttl; bend = 0
    end
    hits = hits + 1
    local blocked = 0
    if hits > limit then bend = now + block; blocked = 1 end
    redis.call('HSET', key, 'h', hits, 'w', wend, 'b', bend)
    redis.call('PEXPIRE', key, math.max(wend, bend) - now)
    table.insert(out, hits); table.insert(out, wend - now); table.insert(out, blocked); table.insert(out, math.max(bend - now, 0))
  end
end
return out
`;

const BLOCKED_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = tonumber(redis.call('HGET', KEYS[1], 'b')) or 0
return math.max(b - now, 0)
`;

type ScriptClient = Redis & {
  palisadeThrottle(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
  palisadeBlocked(key: string): Promise<number>;
};

/**
 * Shared store on Redis (ioredis): one Lua script per request — all of its tiers in one round
 * trip (EVALSHA) — atomic under any concurrency and across instances. Keys are
 * `<prefix>{<tracker>}:<route>:<tier>`, prefixed by the caller.
 */
export class RedisThrottleStore implements ThrottleStore {
  private readonly client: ScriptClient;

  constructor(client: Redis) {
    client.defineCommand('palisadeThrottle', { lua: INCREMENT_SCRIPT });
    client.defineCommand('palisadeBlocked', { lua: BLOCKED_SCRIPT, numberOfKeys: 1 });
    this.client = client as ScriptClient;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    const [record] = await this.incrementMany([{ key, ttlMs: ttl, limit, blockMs: blockDuration }]);
    return record as ThrottlerStorageRecord;
  }

  async incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    const args: (string | number)[] = [];
    for (const hit of hits) args.push(hit.key);
    for (const hit of hits) args.push(Math.max(1, Math.round(hit.ttlMs)), hit.limit, Math.max(1, Math.round(hit.blockMs)));
    const flat = await this.client.palisadeThrottle(hits.length, ...args);
    const records: ThrottlerStorageRecord[] = [];
    for (let i = 0; i < hits.length; i++) {
      records.push({
        totalHits: Number(flat[i * 4]),
        timeToExpire: toSeconds(Number(flat[i * 4 + 1])),
        isBlocked: Number(flat[i * 4 + 2]) === 1,
        timeToBlockExpire: toSeconds(Number(flat[i * 4 + 3])),
      });
    }
    return records;
  }

  async blockedFor(key: string): Promise<number> {
    return toSeconds(Number(await this.client.palisadeBlocked(key)));
  }
}
