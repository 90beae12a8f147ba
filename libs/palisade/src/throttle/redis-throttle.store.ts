import type { Cluster, Redis } from 'ioredis';
import { ROOM_LUA, tierKey, toSeconds, type ThrottleHit, type ThrottleStore, type ThrottlerStorageRecord } from './throttle-store.interface.js';

/**
 * The sliding-window counter of {@link ThrottleStore} on N keys (KEYS) at once, atomically, with
 * Redis's own clock so app instances with skewed clocks agree. ARGV holds (ttlMs, limit, blockMs)
 * per key, integers. Each key is a hash: `s` window start, `c` hits of the current window, `p` hits
 * of the previous one, `b` block end (epoch ms). Returns per key, integers: totalHits, ms until the
 * window closes (or until a hit would pass), refused (0/1), ms until a hit would pass (0 when
 * allowed). Line by line the same computation as `MemoryThrottleStore.hit` and `roomAt`; all keys
 * of one call share a hash tag, so the script is valid on Redis Cluster.
 */
const INCREMENT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
${ROOM_LUA}
local out = {}
for i, key in ipairs(KEYS) do
  local w = tonumber(ARGV[i * 3 - 2])
  local limit = tonumber(ARGV[i * 3 - 1])
  local block = tonumber(ARGV[i * 3])
  local v = redis.call('HMGET', key, 's', 'c', 'p', 'b')
  local s = tonumber(v[1])
  local c = tonumber(v[2]) or 0
  local p = tonumber(v[3]) or 0
  local b = tonumber(v[4]) or 0
  local changed = false
  if s == nil then
    s = now; c = 0; p = 0; changed = true
  elseif now - s >= w then
    if now - s < 2 * w then p = c; s = s + w else p = 0; s = now end
    c = 0; changed = true
  end
  local weighted = p * (w - math.max(0, now - s))
  if b <= now and weighted + c * w < limit * w then
    c = c + 1
    local total = c + math.floor(weighted / w)
    local untilAt = s + w
    if total >= limit then untilAt = room(s, p, c, w, limit) end
    redis.call('HSET', key, 's', s, 'c', c, 'p', p, 'b', b)
    redis.call('PEXPIRE', key, math.max(s + 2 * w, b) - now)
    table.insert(out, total); table.insert(out, untilAt - now); table.insert(out, 0); table.insert(out, 0)
  else
    local untilAt = room(s, p, c, w, limit)
    if b > now then
      untilAt = math.max(untilAt, b)
    elseif block > 0 then
      untilAt = math.max(untilAt, now + block)
      b = untilAt; changed = true
    end
    if changed then
      redis.call('HSET', key, 's', s, 'c', c, 'p', p, 'b', b)
      redis.call('PEXPIRE', key, math.max(s + 2 * w, b) - now)
    end
    local total = math.max(limit + 1, c + 1 + math.floor(weighted / w))
    table.insert(out, total); table.insert(out, untilAt - now); table.insert(out, 1); table.insert(out, untilAt - now)
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

type ScriptClient = (Redis | Cluster) & {
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

  /** `client`: an ioredis `Redis` or `Cluster` (every call's keys share one hash tag). */
  constructor(client: Redis | Cluster) {
    client.defineCommand('palisadeThrottle', { lua: INCREMENT_SCRIPT });
    client.defineCommand('palisadeBlocked', { lua: BLOCKED_SCRIPT, numberOfKeys: 1 });
    this.client = client as ScriptClient;
  }

  /** `@nestjs/throttler`'s increment; the tier name is part of the counter's identity. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName?: string): Promise<ThrottlerStorageRecord> {
    const [record] = await this.incrementMany([{ key: tierKey(key, throttlerName), ttlMs: ttl, limit, blockMs: blockDuration }]);
    return record as ThrottlerStorageRecord;
  }

  async incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    const args: (string | number)[] = [];
    for (const hit of hits) args.push(hit.key);
    for (const hit of hits) args.push(Math.max(1, Math.round(hit.ttlMs)), hit.limit, Math.max(0, Math.round(hit.blockMs)));
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
