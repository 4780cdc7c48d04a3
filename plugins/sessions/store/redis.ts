/**
 * The Redis writer: the conditional write as one Lua script (scripts.ts), atomic on the server. `redisKey`
 * maps a store key to the Redis key the plugin's `SharedStore` uses for it, so that reads go through the
 * store as usual. (EVAL rather than EVALSHA: Redis caches the compiled script by its digest, so a call costs
 * only the script's few hundred bytes, and no NOSCRIPT fallback is needed.)
 */
import type { RealtimeApi } from 'realtime-server'
import { CONDITIONAL_WRITE } from './scripts.js'
import { staleFrom, type ConditionalWriter } from './write-plan.js'

export function redisWriter (redis: NonNullable<RealtimeApi['redis']>, redisKey: (storeKey: string) => string): ConditionalWriter {
  return {
    async write (plan) {
      const written = await redis.eval(CONDITIONAL_WRITE.lua, CONDITIONAL_WRITE.keys, redisKey(plan.stateKey), redisKey(plan.indexKey),
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
