/**
 * Where sessions live: the plugin's `SharedStore` (memory on one node, Redis shared by all nodes).
 *
 * - `state:<tenant>:<session>`: the session's snapshot (JSON), expiring `activeTtlMs` after its last
 *   event while active and `finishedTtlMs` after it finished;
 * - `active:<tenant>`: a sorted set of the tenant's active sessions, most recent event first.
 *
 * Reads go through the store; writes through a compare-and-set on `seq` (write-plan.ts): a Lua script with
 * Redis (redis.ts, scripts.ts), a lock per tenant in memory (memory.ts).
 */
import type { RealtimeApi } from 'realtime-server'
import { UpdateContention } from '../errors.js'
import type { SessionEvent, SessionSnapshot } from '../events.js'
import type { SessionsOptions } from '../schema.js'
import { applyEvent, isFinished } from '../state-machine.js'
import { memoryWriter } from './memory.js'
import { redisWriter } from './redis.js'
import type { ConditionalWriter } from './write-plan.js'

export interface SessionStore {
  /** The session's state, or undefined when it has none (never seen, or expired). */
  read (tenantId: string, sessionId: string): Promise<SessionSnapshot | undefined>
  /** Applies one event atomically; throws `RT_SESSIONS_ILLEGAL_TRANSITION` when the session refuses it. */
  apply (tenantId: string, ev: SessionEvent, eventId: string): Promise<SessionSnapshot>
  /** The tenant's active sessions, most recent event first. */
  listActive (tenantId: string, limit: number): Promise<SessionSnapshot[]>
}

/** Ids are percent-encoded in keys, so `:` in a tenant or session id cannot make two keys collide. */
const enc = encodeURIComponent
const stateKey = (tenantId: string, sessionId: string): string => `state:${enc(tenantId)}:${enc(sessionId)}`
const indexKey = (tenantId: string): string => `active:${enc(tenantId)}`

/** Attempts of one apply before giving up with 503; each failed attempt means another write succeeded. */
const MAX_ATTEMPTS = 25

const pause = async (attempt: number): Promise<void> =>
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)))

export function createSessionStore (realtime: RealtimeApi, options: Pick<SessionsOptions, 'recentEvents' | 'finishedTtlMs' | 'activeTtlMs'>): SessionStore {
  const { store } = realtime
  // The Lua script writes the same keys the store reads: `redis.key` gives their Redis names.
  const writer: ConditionalWriter = realtime.redis === undefined ? memoryWriter(store) : redisWriter(realtime.redis)

  return {
    async read (tenantId, sessionId) {
      return await store.get<SessionSnapshot>(stateKey(tenantId, sessionId))
    },

    async apply (tenantId, ev, eventId) {
      const { sessionId } = ev.payload
      const key = stateKey(tenantId, sessionId)
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await store.get<SessionSnapshot>(key)
        const now = new Date()
        const next = applyEvent(current, ev, { eventId, now, keep: options.recentEvents })
        const active = !isFinished(next.status)
        const written = await writer.write({
          stateKey: key,
          indexKey: indexKey(tenantId),
          sessionId,
          expectedSeq: current?.seq ?? 0,
          next,
          stateTtlMs: active ? options.activeTtlMs : options.finishedTtlMs,
          active,
          score: -now.getTime(),
          activeTtlMs: options.activeTtlMs,
          now: now.getTime()
        })
        if (written) return next
        await pause(attempt)
      }
      throw new UpdateContention(sessionId)
    },

    async listActive (tenantId, limit) {
      const listed = await store.sortedRange(indexKey(tenantId), -Number.MAX_SAFE_INTEGER, 0, limit)
      const states = await Promise.all(listed.map(async ({ member }) => await store.get<SessionSnapshot>(stateKey(tenantId, member))))
      // A listed session without state went idle for longer than activeTtlMs; the next new session prunes it.
      return states.filter((s): s is SessionSnapshot => s !== undefined && !isFinished(s.status))
    }
  }
}
