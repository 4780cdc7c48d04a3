/**
 * The memory writer (one node): the conditional write's check and writes under an in-process lock per
 * tenant, which is enough when no other node writes.
 */
import type { SharedStore } from 'realtime-server'
import type { SessionSnapshot } from '../events.js'
import { staleFrom, type ConditionalWriter } from './write-plan.js'

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
