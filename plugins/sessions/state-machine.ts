/**
 * The session model: how one event changes a session's live state, and which events a session refuses.
 * Pure functions, so the memory and the Redis store apply exactly the same rules.
 *
 *   (no state) --any event--> running | waiting_input | completed | expired | stopped
 *   running <--> waiting_input           (and each to itself: a new current node)
 *   running | waiting_input --> completed | expired | stopped
 *   completed (by status-changed, without summary) --session:completed--> completed (summary added)
 *   completed | expired | stopped --anything else--> refused (409)
 *
 * message-sent and node-executed count and keep the status; the first event of an unknown session
 * creates it as `running` unless the event sets another status.
 */
import { IllegalTransition } from './errors.js'
import type { RecentEvent, SessionEvent, SessionSnapshot, SessionStatus } from './events.js'

const FINISHED: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['completed', 'expired', 'stopped'])

/** Whether a status is final: the session accepts no more events (but one summary, see above). */
export const isFinished = (status: SessionStatus): boolean => FINISHED.has(status)

/** What the event is called in a refusal message. */
const describe = (ev: SessionEvent): string =>
  ev.event === 'session:status-changed' ? `status-changed to ${ev.payload.newStatus}` : ev.event

/** Throws `RT_SESSIONS_ILLEGAL_TRANSITION` when a session in `current` cannot take `ev`. */
function assertAccepts (current: SessionSnapshot, ev: SessionEvent): void {
  if (!isFinished(current.status)) return
  if (ev.event === 'session:completed' && current.status === 'completed' && current.completedAt === undefined) return
  const reason = ev.event === 'session:completed' && current.status === 'completed'
    ? 'it already completed'
    : `it is already ${current.status}`
  throw new IllegalTransition(current.sessionId, describe(ev), reason)
}

export interface ApplyContext {
  /** The id the event is published with. */
  eventId: string
  /** When the server applies it. */
  now: Date
  /** How many recent events to keep. */
  keep: number
}

/**
 * The state after `ev`, with `seq` one higher; throws `RT_SESSIONS_ILLEGAL_TRANSITION` (409) when the
 * session refuses the event. `current` is not modified.
 */
export function applyEvent (current: SessionSnapshot | undefined, ev: SessionEvent, { eventId, now, keep }: ApplyContext): SessionSnapshot {
  if (current !== undefined) assertAccepts(current, ev)
  const at = now.toISOString()
  const base: SessionSnapshot = current ?? {
    sessionId: ev.payload.sessionId,
    status: 'running',
    messageCount: 0,
    nodeCount: 0,
    startedAt: at,
    lastEventAt: at,
    seq: 0,
    recent: []
  }
  const next: SessionSnapshot = { ...base, seq: base.seq + 1, lastEventAt: at }
  switch (ev.event) {
    case 'session:message-sent':
      next.messageCount += 1
      break
    case 'session:node-executed':
      next.nodeCount += 1
      next.currentNodeId = ev.payload.nodeId
      next.currentNodeLabel = ev.payload.nodeLabel
      break
    case 'session:status-changed': {
      const p = ev.payload
      next.status = p.newStatus
      next.statusUpdatedAt = p.updatedAt
      if (p.currentNodeId !== undefined) next.currentNodeId = p.currentNodeId
      if (p.currentNodeLabel !== undefined) next.currentNodeLabel = p.currentNodeLabel
      break
    }
    case 'session:completed': {
      const p = ev.payload
      next.status = 'completed'
      next.completedAt = p.completedAt
      if (p.completionReason !== undefined) next.completionReason = p.completionReason
      next.totalNodes = p.totalNodes
      next.totalMessages = p.totalMessages
      break
    }
  }
  const entry: RecentEvent = { seq: next.seq, eventId, event: ev.event, payload: ev.payload, at }
  const { recent: _previous, ...fields } = next
  // `recent` last, so that a snapshot reads well.
  return { ...fields, recent: keep === 0 ? [] : [...base.recent, entry].slice(-keep) }
}
