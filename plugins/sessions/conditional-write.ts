/**
 * Compare-and-set of one session's state and of its tenant's index of active sessions, as one atomic step.
 *
 * Two nodes may apply events to one session at the same time. Each reads the state, computes the next
 * one (state-machine.ts) and writes it only if the stored `seq` is still the one it read; the loser
 * re-reads and re-applies, and so sees, for instance, that the session completed meanwhile (409). No
 * interleaving can produce an illegal state or lose a counter.
 *
 * - Redis: one Lua script (atomic on the server) on the same keys the plugin's `SharedStore` reads.
 * - Memory (one node): the same check under an in-process lock per tenant.
 */
import type { RealtimeApi, SharedStore } from 'realtime-server'
import type { SessionSnapshot } from './events.js'

export interface WritePlan {
  /** Store key of the session's state, and of the tenant's active index (a sorted set). */
  stateKey: string
  indexKey: string
  sessionId: string
  /** The `seq` the next state was computed from (0: the session did not exist). */
  expectedSeq: number
  next: SessionSnapshot
  /** Expiry of the state in ms; 0: none. */
  stateTtlMs: number
  /** Whether the session stays listed as active (false: remove it from the index). */
  active: boolean
  /** Index score: minus the time of the last event, so that the most recent comes first. */
  score: number
  /** Expiry of the index in ms, and the idle time after which a listed session is stale; 0: none. */
  activeTtlMs: number
  /** Now, in epoch ms. */
  now: number
}

export interface ConditionalWriter {
  /** Writes the plan if the stored `seq` still equals `expectedSeq`; false when another write came first. */
  write (plan: WritePlan): Promise<boolean>
}

/** Score bound above which a listed session is idle for longer than `activeTtlMs`. */
const staleFrom = (plan: WritePlan): number => plan.activeTtlMs - plan.now

/** The memory writer: the check and the writes under a per-tenant lock (one node, so a local lock is enough). */
export function memoryWriter (store: SharedStore): ConditionalWriter {
  const tails = new Map<string, Promise<unknown>>()
  const exclusive = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => {})
    tails.set(key, tail)
    try {
      return await run
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
  return {
    async write (plan) {
      return await exclusive(plan.indexKey, async () => {
        const current = await store.get<SessionSnapshot>(plan.stateKey)
        if ((current?.seq ?? 0) !== plan.expectedSeq) return false
        await store.set(plan.stateKey, plan.next, plan.stateTtlMs > 0 ? { ttlMs: plan.stateTtlMs } : undefined)
        if (!plan.active) {
          await store.sortedRemove(plan.indexKey, plan.sessionId)
          return true
        }
        if (plan.expectedSeq === 0 && plan.activeTtlMs > 0) {
          for (const { member } of await store.sortedRange(plan.indexKey, staleFrom(plan), Number.MAX_SAFE_INTEGER)) {
            await store.sortedRemove(plan.indexKey, member)
          }
        }
        await store.sortedAdd(plan.indexKey, plan.sessionId, plan.score, plan.activeTtlMs > 0 ? { ttlMs: plan.activeTtlMs } : undefined)
        return true
      })
    }
  }
}

/**
 * KEYS: state, index. ARGV: expectedSeq, state JSON, state TTL ms (0: none), active (1/0), sessionId,
 * score, active TTL ms (0: none), stale score bound. Returns 1 when written, 0 on a seq mismatch.
 */
const SCRIPT = `
local current = redis.call('GET', KEYS[1])
local seq = 0
if current then seq = cjson.decode(current).seq end
if seq ~= tonumber(ARGV[1]) then return 0 end
local stateTtl = tonumber(ARGV[3])
if stateTtl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', stateTtl) else redis.call('SET', KEYS[1], ARGV[2]) end
if ARGV[4] ~= '1' then
  redis.call('ZREM', KEYS[2], ARGV[5])
  return 1
end
local activeTtl = tonumber(ARGV[7])
if seq == 0 and activeTtl > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[8], '+inf') end
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
if activeTtl > 0 then redis.call('PEXPIRE', KEYS[2], activeTtl) end
return 1
`

/**
 * The Redis writer. `redisKey` maps a store key to the Redis key the plugin's `SharedStore` uses for it,
 * so that reads go through the store as usual. (EVAL rather than EVALSHA: Redis caches the compiled script
 * by its digest, so a call costs only the script's few hundred bytes, and no NOSCRIPT fallback is needed.)
 */
export function redisWriter (redis: NonNullable<RealtimeApi['redis']>, redisKey: (storeKey: string) => string): ConditionalWriter {
  return {
    async write (plan) {
      const written = await redis.eval(SCRIPT, 2, redisKey(plan.stateKey), redisKey(plan.indexKey),
        plan.expectedSeq,
        JSON.stringify(plan.next),
        plan.stateTtlMs,
        plan.active ? '1' : '0',
        plan.sessionId,
        plan.score,
        plan.activeTtlMs,
        staleFrom(plan)
      )
      return written === 1
    }
  }
}
