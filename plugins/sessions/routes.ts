/**
 * REST: the four triggers a chatbot backend calls (`POST /api/sessions/<event>`), and the reads a
 * dashboard or a backend uses (`GET /api/sessions/:sessionId`, `GET /api/sessions`).
 */
import { randomUUID } from 'node:crypto'
import { Type, type AccessPolicy, type PluginApp, type PluginNamespace, type Principal, type TSchema } from 'realtime-server'
import { SessionNotFound, WatchRefused } from './errors.js'
import { MessageSent, NodeExecuted, SessionCompleted, StatusChanged, type SessionEvent, type SessionEventName } from './events.js'
import type { SessionsOptions } from './schema.js'
import type { SessionStore } from './session-store.js'
import { sessionRoom } from './socket.js'

export interface RouteDeps {
  ns: PluginNamespace
  sessions: SessionStore
  policy: AccessPolicy
  options: Pick<SessionsOptions, 'maxListed'>
}

const TenantId = Type.String({ minLength: 1, description: 'Required with an API key not bound to a tenant.' })

/** The trigger body: the event's payload, plus the tenant for unbound API keys. */
const withTenant = (payload: { properties: Record<string, TSchema> }): TSchema =>
  Type.Object({ ...payload.properties, tenantId: Type.Optional(TenantId) }, { additionalProperties: false })

/** Trigger paths and the event each publishes, with its payload schema. */
const TRIGGERS: Array<{ path: string, event: SessionEventName, payload: { properties: Record<string, TSchema> } }> = [
  { path: '/message-sent', event: 'session:message-sent', payload: MessageSent },
  { path: '/node-executed', event: 'session:node-executed', payload: NodeExecuted },
  { path: '/status-changed', event: 'session:status-changed', payload: StatusChanged },
  { path: '/completed', event: 'session:completed', payload: SessionCompleted }
]

export function sessionRoutes (app: PluginApp, { ns, sessions, policy, options }: RouteDeps): void {
  const { realtime } = app

  for (const { path, event, payload: schema } of TRIGGERS) {
    realtime.trigger(path, { body: withTenant(schema) }, async (request) => {
      const { tenantId: requested, ...payload } = request.body as { tenantId?: string, sessionId: string }
      const tenantId = realtime.tenantOf(request, requested)
      const eventId = randomUUID()
      // Applied first: a watcher that joins now either finds the event in its snapshot or receives it live.
      const state = await sessions.apply(tenantId, { event, payload } as SessionEvent, eventId)
      await ns.publish({ tenantId, rooms: [sessionRoom(payload.sessionId)], event, payload, eventId, meta: { seq: state.seq } })
      return { eventId, sessionId: payload.sessionId, seq: state.seq, status: state.status }
    })
  }

  /** A user token reads what its access policy lets it watch; an API key (a backend) reads its tenant. */
  const mayRead = async (principal: Principal, sessionId: string): Promise<{ allowed: boolean, reason?: string }> =>
    principal.kind === 'user' ? await policy.check(principal.identity, 'session', sessionId) : { allowed: true }

  app.get('/:sessionId', {
    schema: {
      params: Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 200 }) }),
      querystring: Type.Object({ tenantId: Type.Optional(TenantId) }, { additionalProperties: false })
    },
    onRequest: realtime.authenticate('user')
  }, async (request) => {
    const { sessionId } = request.params
    const tenantId = realtime.tenantOf(request, request.query.tenantId)
    const decision = await mayRead(request.principal!, sessionId)
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
    const principal = request.principal!
    const readable = await Promise.all(active.map(async (s) => (await mayRead(principal, s.sessionId)).allowed))
    // The list is a summary; GET /api/sessions/:sessionId has the recent events.
    return { tenantId, sessions: active.filter((_, i) => readable[i]).map(({ recent: _recent, ...summary }) => summary) }
  })
}
