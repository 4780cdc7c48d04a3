/**
 * REST: the four triggers a chatbot backend calls (`POST /api/sessions/<event>`), and the reads a
 * dashboard or a backend uses (`GET /api/sessions/:sessionId`, `GET /api/sessions`).
 */
import { randomUUID } from 'node:crypto'
import { Type, type AccessDecision, type AccessPolicy, type PluginApp, type PluginNamespace, type Principal } from 'realtime-server'
import { SessionNotFound, WatchRefused } from './errors.js'
import { MessageSent, NodeExecuted, SessionCompleted, StatusChanged, type SessionEvent } from './events.js'
import { sessionRoom } from './rooms.js'
import type { SessionsOptions } from './schema.js'
import type { SessionStore } from './store/index.js'

export interface RouteDeps {
  ns: PluginNamespace
  sessions: SessionStore
  policy: AccessPolicy
  options: Pick<SessionsOptions, 'maxListed'>
}

const TenantId = Type.String({ minLength: 1, description: 'Required with an API key not bound to a tenant.' })

/** The trigger bodies: the event's payload, plus the tenant for unbound API keys. */
const tenant = { tenantId: Type.Optional(TenantId) }
const closed = { additionalProperties: false }
const MessageSentBody = Type.Object({ ...MessageSent.properties, ...tenant }, closed)
const NodeExecutedBody = Type.Object({ ...NodeExecuted.properties, ...tenant }, closed)
const StatusChangedBody = Type.Object({ ...StatusChanged.properties, ...tenant }, closed)
const SessionCompletedBody = Type.Object({ ...SessionCompleted.properties, ...tenant }, closed)

export function registerRoutes (app: PluginApp, { ns, sessions, policy, options }: RouteDeps): void {
  const { realtime } = app

  /** Applies the event (409 when the session refuses it), then publishes it to the session's watchers. */
  const apply = async (tenantId: string, ev: SessionEvent): Promise<object> => {
    const { sessionId } = ev.payload
    const eventId = randomUUID()
    // Applied first: a watcher that joins now either finds the event in its snapshot or receives it live.
    const state = await sessions.apply(tenantId, ev, eventId)
    await ns.publish({ tenantId, rooms: [sessionRoom(sessionId)], event: ev.event, payload: ev.payload, eventId, meta: { seq: state.seq } })
    return { eventId, sessionId, seq: state.seq, status: state.status }
  }

  realtime.trigger('/message-sent', { body: MessageSentBody }, async (request) => {
    const { tenantId, ...payload } = request.body
    return await apply(realtime.tenantOf(request, tenantId), { event: 'session:message-sent', payload })
  })
  realtime.trigger('/node-executed', { body: NodeExecutedBody }, async (request) => {
    const { tenantId, ...payload } = request.body
    return await apply(realtime.tenantOf(request, tenantId), { event: 'session:node-executed', payload })
  })
  realtime.trigger('/status-changed', { body: StatusChangedBody }, async (request) => {
    const { tenantId, ...payload } = request.body
    return await apply(realtime.tenantOf(request, tenantId), { event: 'session:status-changed', payload })
  })
  realtime.trigger('/completed', { body: SessionCompletedBody }, async (request) => {
    const { tenantId, ...payload } = request.body
    return await apply(realtime.tenantOf(request, tenantId), { event: 'session:completed', payload })
  })

  /** A user token reads what its access policy lets it watch; an API key (a backend) reads its tenant. */
  const mayRead = async (principal: Principal | null, sessionId: string): Promise<AccessDecision> =>
    principal?.kind === 'user' ? await policy.check(principal.identity, 'session', sessionId) : { allowed: true }

  app.get('/:sessionId', {
    schema: {
      params: Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 200 }) }),
      querystring: Type.Object({ tenantId: Type.Optional(TenantId) }, { additionalProperties: false })
    },
    onRequest: realtime.authenticate('user')
  }, async (request) => {
    const { sessionId } = request.params
    const tenantId = realtime.tenantOf(request, request.query.tenantId)
    const decision = await mayRead(request.principal, sessionId)
    if (!decision.allowed) throw new WatchRefused(sessionId, decision.reason ?? 'refused')
    const state = await sessions.read(tenantId, sessionId)
    if (state === undefined) throw new SessionNotFound(sessionId)
    return state
  })

  app.get('/', {
    schema: {
      querystring: Type.Object({
        tenantId: Type.Optional(TenantId),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: options.maxListed, description: 'At most this many sessions (default 100).' }))
      }, { additionalProperties: false })
    },
    onRequest: realtime.authenticate('user')
  }, async (request) => {
    const tenantId = realtime.tenantOf(request, request.query.tenantId)
    const active = await sessions.listActive(tenantId, request.query.limit ?? Math.min(100, options.maxListed))
    const readable = await Promise.all(active.map(async (s) => (await mayRead(request.principal, s.sessionId)).allowed))
    // The list is a summary; GET /api/sessions/:sessionId has the recent events.
    return { tenantId, sessions: active.filter((_, i) => readable[i]).map(({ recent: _recent, ...summary }) => summary) }
  })
}
