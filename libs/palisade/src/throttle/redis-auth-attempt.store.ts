import type { Cluster, Redis } from 'ioredis';
import { ATTEMPT_ALLOWED, type AttemptOutcome, type AttemptPolicy, type AttemptVerdict, type AuthAttemptStore } from './auth-attempt-store.interface.js';
import { ROOM_LUA } from './throttle-store.interface.js';

/**
 * Shared by both scripts: Redis's clock, the key's hash (`s` window start, `c` failures of the
 * current window, `p` of the previous one, `b` block end, `i` reserved slots, `e` when they lapse),
 * rolled to now. ARGV: ttlMs, limit, blockMs, then the script's own. Line by line the same
 * computation as `MemoryAuthAttemptStore`.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local w = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local block = tonumber(ARGV[3])
${ROOM_LUA}
local v = redis.call('HMGET', key, 's', 'c', 'p', 'b', 'i', 'e')
local s = tonumber(v[1])
local c = tonumber(v[2]) or 0
local p = tonumber(v[3]) or 0
local b = tonumber(v[4]) or 0
local i = tonumber(v[5]) or 0
local e = tonumber(v[6]) or 0
local fresh = s == nil
if e <= now then i = 0 end
if s == nil then
  s = now; c = 0; p = 0
elseif now - s >= w then
  if now - s < 2 * w then p = c; s = s + w else p = 0; s = now end
  c = 0
end
local function save()
  local nothing = (c == 0 and p == 0) or now - s >= 2 * w
  if nothing and b <= now and (i == 0 or e <= now) then
    redis.call('DEL', key)
  else
    redis.call('HSET', key, 's', s, 'c', c, 'p', p, 'b', b, 'i', i, 'e', e)
    redis.call('PEXPIRE', key, math.max(s + 2 * w, b, e) - now)
  end
end
`;

/** ARGV[4]: pendingMs. Returns allowed (0/1), blocked (0/1), ms until an attempt could pass. */
const RESERVE_SCRIPT = `${PRELUDE}
local pend = tonumber(ARGV[4])
local weighted = p * (w - math.max(0, now - s))
local out
if b > now then
  out = {0, 1, b - now}
elseif weighted + c * w >= limit * w then
  b = math.max(room(s, p, c, w, limit), now + block)
  out = {0, 1, b - now}
elseif weighted + (c + i) * w >= limit * w then
  out = {0, 0, 1000}
else
  i = i + 1; e = now + pend
  out = {1, 0, 0}
end
save()
return out
`;

/** ARGV[4]: reserved (0/1), ARGV[5]: counts as a failure (0/1). Returns blocked (0/1), ms left. */
const SETTLE_SCRIPT = `${PRELUDE}
local reserved = tonumber(ARGV[4])
local counts = tonumber(ARGV[5])
if fresh and counts == 0 then return {0, 0} end
if reserved == 1 and i > 0 then i = i - 1 end
if counts == 1 then
  c = c + 1
  local weighted = p * (w - math.max(0, now - s))
  if weighted + c * w >= limit * w then b = math.max(b, room(s, p, c, w, limit), now + block) end
end
save()
if b > now then return {1, b - now} end
return {0, 0}
`;

const BLOCKED_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = tonumber(redis.call('HGET', KEYS[1], 'b')) or 0
return math.max(b - now, 0)
`;

type ScriptClient = Redis & {
  palisadeAttemptReserve(key: string, ...args: number[]): Promise<number[]>;
  palisadeAttemptSettle(key: string, ...args: number[]): Promise<number[]>;
  palisadeAttemptBlocked(key: string): Promise<number>;
};

const int = (ms: number): number => Math.max(0, Math.round(ms));

/**
 * The {@link AuthAttemptStore} on Redis: a reservation is one Lua script, one round trip, atomic
 * across every app instance; so is a settlement. Keys are the caller's (`<prefix>{<ip>}:auth-failures`),
 * one hash per address, expiring once it has nothing left to remember. Redis evicts nothing here
 * unless its own `maxmemory-policy` says so: run it with `noeviction` or a `volatile-*` policy
 * that leaves these keys alone, as for every Palisade key.
 * @internal
 */
export class RedisAuthAttemptStore implements AuthAttemptStore {
  private readonly client: ScriptClient;

  constructor(client: Redis | Cluster) {
    client.defineCommand('palisadeAttemptReserve', { lua: RESERVE_SCRIPT, numberOfKeys: 1 });
    client.defineCommand('palisadeAttemptSettle', { lua: SETTLE_SCRIPT, numberOfKeys: 1 });
    client.defineCommand('palisadeAttemptBlocked', { lua: BLOCKED_SCRIPT, numberOfKeys: 1 });
    this.client = client as ScriptClient;
  }

  async reserveAttempt(policy: AttemptPolicy): Promise<AttemptVerdict> {
    const [allowed, blocked, wait] = await this.client.palisadeAttemptReserve(
      policy.key,
      Math.max(1, int(policy.ttlMs)),
      policy.limit,
      int(policy.blockMs),
      Math.max(1, int(policy.pendingMs)),
    );
    if (Number(allowed) === 1) return ATTEMPT_ALLOWED;
    return { allowed: false, blocked: Number(blocked) === 1, retryAfterMs: Number(wait) };
  }

  async settleAttempt(policy: AttemptPolicy, reserved: boolean, outcome: AttemptOutcome): Promise<AttemptVerdict> {
    const [blocked, wait] = await this.client.palisadeAttemptSettle(
      policy.key,
      Math.max(1, int(policy.ttlMs)),
      policy.limit,
      int(policy.blockMs),
      reserved ? 1 : 0,
      outcome === 'failure' ? 1 : 0,
    );
    return { allowed: false, blocked: Number(blocked) === 1, retryAfterMs: Number(wait) };
  }

  async attemptBlockedFor(key: string): Promise<number> {
    return Number(await this.client.palisadeAttemptBlocked(key));
  }
}
