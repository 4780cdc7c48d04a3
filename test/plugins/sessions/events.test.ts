// The catalog tells the truth: what a client really gets (acks, session:state, the live events) matches the
// catalog's ack and payload schemas. (That every handled event is declared, with its schema, the core checks at start-up.)
import t from 'tap'
import { compile, type TSchema } from 'realtime-server'
import { startServer, waitFor } from 'realtime-server/testing'
import { events } from '../../../plugins/sessions/events.js'

/** The first problem of `value` against `schema`, or undefined when it matches. */
const problem = (schema: TSchema, value: unknown): string | undefined => {
  const p = compile(schema).problems(value)[0]
  return p === undefined ? undefined : `${p.field}: ${p.message}`
}
const ack = (event: keyof typeof events.client): TSchema => events.client[event].ack
const payload = (event: keyof typeof events.server): TSchema => events.server[event].payload

t.test('acks, session:state and the live events match the catalog', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: {} } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })

  const emptyState = waitFor(socket, 'session:state')
  const empty = await server.emitWithAck(socket, 'session:join', { sessionId: 's1' })
  t.equal(empty.state, null)
  t.equal(problem(ack('session:join'), empty), undefined, 'the join ack without state')
  t.equal(problem(payload('session:state'), (await emptyState)[0]), undefined, 'session:state without state')

  const live = waitFor(socket, 'session:node-executed')
  const res = await server.request('POST', '/api/sessions/node-executed', { apiKey: true, body: { tenantId: 'acme', sessionId: 's1', nodeId: 'n1', nodeLabel: 'Ask' } })
  t.equal(res.status, 200)
  t.equal(problem(payload('session:node-executed'), (await live)[0]), undefined, 'the live event')

  const fullState = waitFor(socket, 'session:state')
  const full = await server.emitWithAck(socket, 'session:join', { sessionId: 's1' })
  t.equal(full.state.seq, 1)
  t.equal(problem(ack('session:join'), full), undefined, 'the join ack with the snapshot')
  t.equal(problem(payload('session:state'), (await fullState)[0]), undefined, 'session:state with the snapshot')

  t.equal(problem(ack('session:leave'), await server.emitWithAck(socket, 'session:leave', { sessionId: 's1' })), undefined, 'the leave ack')
  t.not(problem(ack('session:join'), { sessionId: 's1', success: true }), undefined, 'the check can fail: a join ack needs its state')
})
