// The sessions plugin's metrics: sessions active as this node last saw them, and events applied by resulting status.
import type { RealtimeApi } from 'realtime-server'
import type { SessionSnapshot, SessionStatus } from './events.js'
import { isFinished } from './state-machine.js'

/**
 * What the plugin counts. `active_sessions` is read when scraped: the sessions whose latest event this node
 * applied, still active and not idle for longer than `activeTtlMs` (the store's own expiry); the cluster's total
 * is the sum over nodes when each session's events go through one node, an upper bound otherwise.
 */
export class SessionMetrics {
  /** Session key -> when it goes idle (epoch ms). */
  readonly #active = new Map<string, number>()
  readonly #applied = new Map<SessionStatus, { inc: () => void }>()
  readonly #counter

  constructor (realtime: RealtimeApi, readonly activeTtlMs: number) {
    realtime.metrics.gauge('active_sessions', {
      help: 'Sessions active (not completed, expired or stopped, nor idle past activeTtlMs) whose latest event this node applied.',
      collect: () => this.activeCount(Date.now())
    })
    this.#counter = realtime.metrics.counter('events_applied_total', {
      help: 'Session events applied (REST triggers), by the status the session has after the event.',
      labels: ['status']
    })
  }

  /** Records a session's state after an event this node applied. */
  applied (tenantId: string, state: SessionSnapshot, now: number): void {
    const key = `${tenantId}\u0000${state.sessionId}`
    if (isFinished(state.status)) this.#active.delete(key)
    else this.#active.set(key, now + this.activeTtlMs)
    let child = this.#applied.get(state.status)
    if (child === undefined) this.#applied.set(state.status, child = this.#counter.child(state.status))
    child.inc()
  }

  activeCount (now: number): number {
    for (const [key, idleAt] of this.#active) if (idleAt <= now) this.#active.delete(key)
    return this.#active.size
  }
}
