import t from 'tap'
import type { SessionEvent, SessionSnapshot, SessionStatus } from '../../../plugins/sessions/events.js'
import { applyEvent, isFinished } from '../../../plugins/sessions/state-machine.js'

const at = '2025-01-01T10:00:00.000Z'
const context = { eventId: 'e', now: new Date(0), keep: 10 }
const STATUSES: SessionStatus[] = ['running', 'waiting_input', 'completed', 'expired', 'stopped']

const status = (newStatus: SessionStatus): SessionEvent => ({ event: 'session:status-changed', payload: { sessionId: 's', newStatus, updatedAt: at } })
const summary: SessionEvent = { event: 'session:completed', payload: { sessionId: 's', completedAt: at, totalNodes: 1, totalMessages: 2 } }
const message: SessionEvent = { event: 'session:message-sent', payload: { sessionId: 's', messageId: 'm', senderId: 'x', type: 'text', content: 1, status: 'sent', timestamp: at } }
const node: SessionEvent = { event: 'session:node-executed', payload: { sessionId: 's', nodeId: 'n', nodeLabel: 'N' } }
const EVENTS: SessionEvent[] = [...STATUSES.map(status), summary, message, node]

/** A session brought into `s` by a status change. */
const inStatus = (s: SessionStatus): SessionSnapshot => applyEvent(undefined, status(s), context)

const accepts = (state: SessionSnapshot | undefined, ev: SessionEvent): boolean => {
  try {
    applyEvent(state, ev, context)
    return true
  } catch (err) {
    if ((err as { code?: string }).code !== 'RT_SESSIONS_ILLEGAL_TRANSITION') throw err
    return false
  }
}

t.test('the transition table', async (t) => {
  for (const from of STATUSES) {
    for (const ev of EVENTS) {
      const what = ev.event === 'session:status-changed' ? `-> ${ev.payload.newStatus}` : ev.event
      const expected = !isFinished(from) || (from === 'completed' && ev.event === 'session:completed')
      t.equal(accepts(inStatus(from), ev), expected, `${from}: ${what} ${expected ? 'accepted' : 'refused'}`)
    }
  }
  const summarized = applyEvent(undefined, summary, context)
  t.same(EVENTS.filter((ev) => accepts(summarized, ev)), [], 'completed by session:completed: nothing more')
  for (const ev of EVENTS) t.ok(accepts(undefined, ev), 'a session without state takes any event')
})

t.test('what each event changes', async (t) => {
  const started = applyEvent(undefined, node, context)
  t.match(started, { status: 'running', nodeCount: 1, currentNodeId: 'n', currentNodeLabel: 'N', seq: 1 })
  const moved = applyEvent(started, { event: 'session:status-changed', payload: { sessionId: 's', newStatus: 'waiting_input', currentNodeId: 'q', currentNodeLabel: 'Q', updatedAt: 'u' } }, context)
  t.match(moved, { status: 'waiting_input', currentNodeId: 'q', currentNodeLabel: 'Q', statusUpdatedAt: 'u', seq: 2 })
  const kept = applyEvent(moved, status('running'), context)
  t.match(kept, { currentNodeId: 'q', currentNodeLabel: 'Q' }, 'a status change without a node keeps the current node')
  const counted = applyEvent(kept, message, context)
  t.match(counted, { messageCount: 1, nodeCount: 1, seq: 4 })
  t.notOk('completedAt' in counted)
  const done = applyEvent(counted, { event: 'session:completed', payload: { sessionId: 's', completedAt: 'c', completionReason: 'r', totalNodes: 3, totalMessages: 4 } }, context)
  t.match(done, { status: 'completed', completedAt: 'c', completionReason: 'r', totalNodes: 3, totalMessages: 4, seq: 5 })
  t.same(done.recent.map((e) => e.seq), [1, 2, 3, 4, 5])
  t.equal(counted.seq, 4, 'the previous state is not modified')
})

t.test('recent keeps the last `keep` events, or none', async (t) => {
  let state: SessionSnapshot | undefined
  for (let i = 0; i < 5; i++) state = applyEvent(state, node, { ...context, keep: 3 })
  t.same(state!.recent.map((e) => e.seq), [3, 4, 5])
  t.same(applyEvent(state, node, { ...context, keep: 0 }).recent, [])
})
