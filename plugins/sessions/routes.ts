/**
 * REST: the four triggers a chatbot backend calls (`POST /api/sessions/<event>`), and the reads a
 * dashboard or a backend uses (`GET /api/sessions/:sessionId`, `GET /api/sessions`).
 */
import { randomUUID } from 'node:crypto'
import { Type, type AccessDecision, type AccessPolicy, type PluginApp, type PluginNamespace, type Principal } from 'realtime-server'
import { SessionNotFound, WatchRefused } from './errors.js'
import { MessageSent, NodeExecuted, SessionCompleted, SessionId, StatusChanged, type SessionEvent } from './events.js'
import { sessionRoom } from './rooms.js'
import type { SessionsOptions } from './schema.js'
import type { SessionMetrics } from './metrics.js'
import type { SessionStore } from './store/index.js'

export interface RouteDeps {
  ns: PluginNamespace
  sessions: SessionStore
  policy: AccessPolicy
  options: Pick<SessionsOptions, 'maxListed'>
  metrics: SessionMetrics
}

const SessionParams = Type.Object({ sessionId: SessionId })
/** The query of a session read: nothing but the `tenantId` that `tenant: true` adds. */
const ReadQuery = Type.Object({}, { additionalProperties: false })

export function registerRoutes (app: PluginApp, { ns, sessions, policy, options, metrics }: RouteDeps): void {
  const { realtime } = app

  /** Applies the event (409 when the session refuses it), then publishes it to the session's watchers. */
  const apply = async (tenantId: string, ev: SessionEvent): Promise<object> => {
    const { sessionId } = ev.payload
    const eventId = randomUUID()
    // Applied first: a watcher that joins now either finds the event in its snapshot or receives it live.
    const state = await sessions.apply(tenantId, ev, eventId)
    metrics.applied(tenantId, state, Date.now())
    await ns.publish({ tenantId, rooms: [sessionRoom(sessionId)], event: ev.event, payload: ev.payload, eventId, meta: { seq: state.seq } })
    return { eventId, sessionId, seq: state.seq, status: state.status }
  }

  realtime.trigger('/message-sent', { body: MessageSent, tenant: true }, async (request) =>
    await apply(request.tenantId, { event: 'session:message-sent', payload: request.body }))
  realtime.trigger('/node-executed', { body: NodeExecuted, tenant: true }, async (request) =>
    await apply(request.tenantId, { event: 'session:node-executed', payload: request.body }))
  realtime.trigger('/status-changed', { body: StatusChanged, tenant: true }, async (request) =>
    await apply(request.tenantId, { event: 'session:status-changed', payload: request.body }))
  realtime.trigger('/completed', { body: SessionCompleted, tenant: true }, async (request) =>
    await apply(request.tenantId, { event: 'session:completed', payload: request.body }))

  /** A user token reads what its access policy lets it watch; an API key (a backend) reads its tenant. */
  const mayRead = async (principal: Principal | null, sessionId: string): Promise<AccessDecision> =>
    principal?.kind === 'user' ? await policy.check(principal.identity, 'session', sessionId) : { allowed: true }

  realtime.trigger('/:sessionId', { method: 'GET', params: SessionParams, querystring: ReadQuery, auth: 'user', tenant: true }, async (request) => {
    const { sessionId } = request.params
    const { tenantId } = request
    const decision = await mayRead(request.principal, sessionId)
    if (!decision.allowed) throw new WatchRefused(sessionId, decision.reason ?? 'refused')
    const state = await sessions.read(tenantId, sessionId)
    if (state === undefined) throw new SessionNotFound(sessionId)
    return state
  })

  const ListQuery = Type.Object({
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: options.maxListed, description: 'At most this many sessions (default 100).' }))
  }, { additionalProperties: false })
  realtime.trigger('/', { method: 'GET', querystring: ListQuery, auth: 'user', tenant: true }, async (request) => {
    const { tenantId } = request
    const active = await sessions.listActive(tenantId, request.query.limit ?? Math.min(100, options.maxListed))
    const readable = await Promise.all(active.map(async (s) => (await mayRead(request.principal, s.sessionId)).allowed))
    // The list is a summary; GET /api/sessions/:sessionId has the recent events.
    return { tenantId, sessions: active.filter((_, i) => readable[i]).map(({ recent: _recent, ...summary }) => summary) }
  })
}
