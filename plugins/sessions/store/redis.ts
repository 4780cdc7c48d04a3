/**
 * The Redis writer: the conditional write as one Lua script (scripts.ts), atomic on the server, defined once
 * through `realtime.redis.script` (EVALSHA, EVAL again when Redis lost it). Its keys are the Redis names of the
 * store keys (`redis.key`), so that reads go through the plugin's `SharedStore` as usual.
 */
import type { RedisPrimitives } from 'realtime-server'
import { CONDITIONAL_WRITE } from './scripts.js'
import { staleFrom, type ConditionalWriter } from './write-plan.js'

export function redisWriter (redis: RedisPrimitives): ConditionalWriter {
  const conditionalWrite = redis.script<number>('conditional-write', CONDITIONAL_WRITE)
  return {
    async write (plan) {
      const written = await conditionalWrite([redis.key(plan.stateKey), redis.key(plan.indexKey)],
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
