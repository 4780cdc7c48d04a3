// The inspector's "publish a test event": a call of a plugin's REST trigger, in process, as the signed-in admin.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { Unauthorized } from '../../lib/errors.js'
import type { Principal } from '../auth/rest-auth.js'
import type { Admin } from './admin-auth.js'

/**
 * How the call authenticates: the trigger's own authentication hook (`realtime.authenticate()`, named
 * `realtimeAuth`) is wrapped, when the route is added, by one that first looks for a one-time nonce in
 * CALL_HEADER. The nonce is 32 random bytes made for one `inject()` and forgotten once used, so it is never
 * known outside this process; the request then runs as an API key named `inspector:<admin>` bound to the admin's
 * tenant, and the trigger's own tenant rules (`tenantOf`) decide what it may publish. Any other request goes to
 * the trigger's hook unchanged.
 */
const CALL_HEADER = 'x-rt-inspector-call'
const AUTH_HOOK = 'realtimeAuth'

/** A POST route of a plugin behind `realtime.authenticate()`: what the inspector can call. */
export interface TriggerRoute {
  plugin: string
  url: string
}

type Hook = (this: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export class TriggerCalls {
  readonly #routes = new Map<string, TriggerRoute>()
  readonly #pending = new Map<string, Principal>()
  #app: FastifyInstance | undefined

  /** Watches the routes added from now on (call before the plugins register). */
  attach (app: FastifyInstance): void {
    this.#app = app
    app.addHook('onRoute', (route: RouteOptions) => { this.#onRoute(route) })
  }

  /** The triggers that can be called, sorted by URL. */
  list (): TriggerRoute[] {
    return [...this.#routes.values()].sort((a, b) => a.url.localeCompare(b.url))
  }

  has (url: string): boolean { return this.#routes.has(url) }

  /** Calls trigger `url` with `body` as `admin`; resolves with the trigger's own status and body. */
  async call (admin: Admin, url: string, body: unknown): Promise<{ status: number, body: unknown }> {
    const app = this.#app!
    const nonce = randomBytes(32).toString('hex')
    const principal: Principal = admin.tenantId === undefined
      ? { kind: 'apiKey', name: `inspector:${admin.name}` }
      : { kind: 'apiKey', name: `inspector:${admin.name}`, tenantId: admin.tenantId }
    this.#pending.set(nonce, principal)
    try {
      const res = await app.inject({ method: 'POST', url, headers: { [CALL_HEADER]: nonce, 'content-type': 'application/json' }, payload: JSON.stringify(body ?? {}) })
      let parsed: unknown = res.body
      try { parsed = res.json() } catch {}
      return { status: res.statusCode, body: parsed }
    } finally {
      this.#pending.delete(nonce)
    }
  }

  #onRoute (route: RouteOptions): void {
    const hooks = route.onRequest
    if (hooks === undefined) return
    const list = (Array.isArray(hooks) ? hooks : [hooks]) as Hook[]
    if (!list.some((h) => h.name === AUTH_HOOK)) return
    const wrapped = list.map((h) => h.name === AUTH_HOOK ? this.#wrap(h) : h)
    route.onRequest = (Array.isArray(hooks) ? wrapped : wrapped[0]) as RouteOptions['onRequest']
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const m = /^\/api\/([a-z0-9][a-z0-9-]*)\//.exec(route.url)
    if (m !== null && methods.includes('POST') && !route.url.includes(':') && !route.url.includes('*')) {
      this.#routes.set(route.url, { plugin: m[1]!, url: route.url })
    }
  }

  #wrap (original: Hook): Hook {
    const pending = this.#pending
    return async function inspectorOrRealtimeAuth (this: unknown, request: FastifyRequest, reply: FastifyReply) {
      const nonce = request.headers[CALL_HEADER]
      if (nonce === undefined) return await original.call(this, request, reply)
      const principal = typeof nonce === 'string' ? pending.get(nonce) : undefined
      if (principal === undefined) throw new Unauthorized('unknown inspector call')
      pending.delete(nonce as string)
      request.principal = principal
    }
  }
}
