/**
 * Compare-and-set of one session's state and of its tenant's index of active sessions, as one atomic step:
 * what both writers (memory.ts, redis.ts) implement.
 *
 * Two nodes may apply events to one session at the same time. Each reads the state, computes the next
 * one (state-machine.ts) and writes it only if the stored `seq` is still the one it read; the loser
 * re-reads and re-applies, and so sees, for instance, that the session completed meanwhile (409). No
 * interleaving can produce an illegal state or lose a counter.
 */
import type { SessionSnapshot } from '../events.js'

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
  /**
   * Writes the plan if the stored `seq` still equals `expectedSeq`; false when another write came first.
   * A session created (expectedSeq 0) prunes the index of sessions idle for longer than activeTtlMs.
   */
  write (plan: WritePlan): Promise<boolean>
}

/** Score bound above which a listed session is idle for longer than `activeTtlMs`. */
export const staleFrom = (plan: WritePlan): number => plan.activeTtlMs - plan.now
