import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Redis } from 'ioredis'
import type { Static, TSchema } from 'typebox'
import type { ServerConfig } from '../../config/schema.js'
import { createAccessPolicy, type AccessPolicy, type AccessPolicyOptions } from '../access-policy.js'
import { tenantOf, type AuthMode, type Principal } from '../auth/rest-auth.js'
import { ExpiryWheel, type ExpiryHandler, type ExpiryService } from '../auth/expiry.js'
import type { Identity } from '../auth/tokens.js'
import type { Core } from '../core.js'
import { PluginDependency, PluginLifecycle, Unauthorized } from '../../lib/errors.js'
import type { NamespaceStats } from '../cluster/bus.js'
import type { ConnectionHook, DisconnectHook, EventHandler, PublishHook, TimeFormat } from '../namespaces/registry.js'
import type { PublishInput, PublishResult, PublishTarget } from '../publish.js'
import type { SocketContext } from '../socket-context.js'
import type { SharedStore } from '../store/types.js'
import { compile, type Validator } from '../../lib/validation.js'

/** A namespace as one plugin sees it: its handlers and hooks, and publishing into it. */
export interface PluginNamespace {
  readonly name: string
  /**
   * Handles a client event. The payload is checked against `schema` first: an invalid one is answered
   * `{ error: { code: 'RT_ERR_VALIDATION', message, field } }` in the ack (or an `error` event without ack)
   * and the handler is not called. The handler's return value (or `{ ok: true }`) is the ack; a thrown
   * catalog error is sent as `{ error: { code, message } }`, any other error is logged and masked.
   *
   * @example
   * ns.handle('conversation:join', Type.Object({ conversationId: Type.String() }), (ctx, { conversationId }) => {
   *   ctx.join(`conversation:${conversationId}`)
   *   return { conversationId, success: true }
   * })
   */
  handle<S extends TSchema> (event: string, schema: S, handler: (ctx: SocketContext, data: Static<S>) => unknown): this
  /** Runs for every authenticated socket, after it joined its tenant, user and role rooms. */
  onConnection (hook: (ctx: SocketContext) => unknown): this
  onDisconnect (hook: (ctx: SocketContext, reason: string) => unknown): this
  publish (input: Omit<PublishInput, 'namespace'>): Promise<PublishResult>
  /**
   * Sees, on the publishing node, every event other plugins (and socket handlers) publish into this
   * namespace: for bridging them to a transport of the plugin's own.
   */
  onPublish (hook: PublishHook): this
  /**
   * Adds the sockets of a target (users, rooms or roles of one tenant), on every node, to a room of that
   * tenant; e.g. all tabs of a user who joined a channel from one of them.
   */
  socketsJoin (target: Omit<PublishTarget, 'namespace'>, room: string): Promise<void>
  socketsLeave (target: Omit<PublishTarget, 'namespace'>, room: string): Promise<void>
  /** Sockets, rooms and sockets per tenant, across the cluster unless `local`. */
  stats (options?: { local?: boolean }): Promise<NamespaceStats & { partial?: boolean }>
}

/** Options of a REST trigger. */
export interface TriggerOptions<B extends TSchema, Q extends TSchema | undefined = undefined> {
  body: B
  querystring?: Q
  /** Who may call it; `publisher` by default. */
  auth?: AuthMode
  /** HTTP status of a success; 200 by default. */
  status?: number
}

export interface TriggerRequest<B> extends FastifyRequest {
  body: B
  principal: Principal
}

/**
 * The API a plugin gets as `app.realtime`: everything it needs, without importing core files.
 * Namespaces, events and routes are declared while the plugin sets up; publishing works any time after.
 */
export interface RealtimeApi {
  /** The plugin's name. */
  readonly plugin: string
  readonly log: FastifyBaseLogger
  /** The validated server configuration (read-only). */
  readonly config: Readonly<ServerConfig>
  /** True when several nodes share Redis. */
  readonly clustered: boolean
  /** Shared state, keys prefixed with the plugin's name. */
  readonly store: SharedStore
  /** The shared Redis connection when Redis is configured, for plugins with their own Redis structures. */
  readonly redis: Redis | undefined
  /** This process's id in the cluster (unique per start). */
  readonly nodeId: string
  /** The server runs in production (`NODE_ENV=production`): refuse development-only options at setup. */
  readonly production: boolean

  /**
   * Uses a namespace (`/` by default), with the core's authentication already applied. Several plugins
   * may share one; `exclusive` refuses any other plugin on it. `timeFormat` is how the core writes the times
   * it sends there (`auth:expired`'s `expiredAt`, `error`'s `timestamp`): `iso` unless a plugin asks for
   * `epoch-ms`; two plugins asking for different ones conflict.
   *
   * @example
   * const orders = app.realtime.namespace('/orders', { timeFormat: 'epoch-ms' })
   */
  namespace (name?: string, options?: { exclusive?: boolean, timeFormat?: TimeFormat }): PluginNamespace

  /**
   * The one publish primitive: to a tenant, users, rooms or roles, except users, roles, rooms or a socket.
   * Rooms are tenant-scoped, so no publish reaches another tenant; one node and many behave the same.
   *
   * @example
   * await app.realtime.publish({ tenantId, rooms: [`campaign:${id}`], event: 'campaign:progress', payload })
   */
  publish (input: PublishInput): Promise<PublishResult>

  /**
   * An `onRequest` hook that authenticates the caller and sets `request.principal`. Use it as `onRequest`, so
   * a caller without credentials gets 401 before the body is read or validated (and learns nothing of the schema).
   *
   * @example
   * app.get('/online', { schema: { querystring: Query }, onRequest: app.realtime.authenticate('user') }, handler)
   */
  authenticate (mode?: AuthMode): onRequestAsyncHookHandler

  /**
   * A REST trigger: `POST <prefix><path>` with a validated body, behind API-key/JWT auth (checked first: a
   * caller without credentials gets 401 whatever the body). Routes are prefixed with `/api/<plugin>`.
   */
  trigger<B extends TSchema, Q extends TSchema | undefined = undefined> (
    path: string,
    options: TriggerOptions<B, Q>,
    handler: (request: TriggerRequest<Static<B>> & { query: Q extends TSchema ? Static<Q> : unknown }, reply: FastifyReply) => Promise<unknown>
  ): void

  /** The tenant an authenticated request may act on (see docs: tenant-bound keys and user tokens act only in their own). */
  tenantOf (request: FastifyRequest, requested?: string): string

  /** Verifies a JWT as the socket handshake does (for transports of a plugin's own, such as plain WebSocket). */
  verifyToken (token: string): Promise<Identity>

  /**
   * Token expiry for the clients of a transport of the plugin's own (a plain WebSocket endpoint), on the core's
   * expiry wheel: armed with the token's `exp`, a client gets `expired` when it passes and `ended`
   * `auth.expiryGraceMs` later unless re-armed (a refresh) or disarmed (it closed) first. One timer for all
   * clients, none per client; a handler that throws is logged. The wheel holds the items it is armed with
   * until disarmed or ended: disarm on close.
   *
   * @example
   * const expiry = app.realtime.expiry<Client>({
   *   expired: (client) => { client.send({ type: 'auth_expired', expiredAt: client.user.exp! * 1000, graceMs: expiry.graceMs }) },
   *   ended: (client) => { client.ws.close(4401, 'token expired') }
   * })
   * expiry.arm(client, client.user.exp)   // once authenticated, and again after each refresh
   * expiry.disarm(client)                 // when the connection closes
   */
  expiry<T extends object> (handler: ExpiryHandler<T>): ExpiryService<T>

  /** Builds an access policy from its options (`AccessPolicyOptions`): tenant, claim, roles or a backend hook. */
  accessPolicy (options: AccessPolicyOptions): AccessPolicy

  /**
   * Messages between the nodes of this plugin, through the Socket.IO adapter: `emit` runs the handlers
   * of every node, this one included. Without Redis it is a local call.
   */
  readonly cluster: {
    emit (event: string, data: unknown): void
    on (event: string, handler: (data: any) => void): void
  }

  /** Compiles a TypeBox schema (for payloads validated outside `handle`). */
  compile<S extends TSchema> (schema: S): Validator<Static<S>>

  /** Makes a value available to plugins that depend on this one. */
  provide (value: unknown): void
  /** The value provided by a plugin listed in this plugin's dependencies. */
  use<T> (plugin: string): T
}

export function createPluginApi (core: Core, plugin: string, dependencies: readonly string[], app: FastifyInstance): RealtimeApi {
  const declared = new Set<string>()
  const { registry, dispatch } = core
  const log = core.log.child({ plugin })
  let ready = false
  app.addHook('onReady', async () => { ready = true })

  const publish = async (input: PublishInput): Promise<PublishResult> => {
    const ns = input.namespace ?? '/'
    if (!declared.has(ns)) throw new PluginLifecycle(`plugin "${plugin}" publishes to namespace "${ns}" without declaring it with realtime.namespace()`)
    return await core.publisher.publish(input, plugin)
  }

  const authenticate = (mode: AuthMode = 'publisher'): onRequestAsyncHookHandler =>
    async function realtimeAuth (request: FastifyRequest) {
      (request as FastifyRequest & { principal: Principal }).principal = await core.rest.authenticate(request, mode)
    }

  const api: RealtimeApi = {
    plugin,
    log,
    config: core.config,
    clustered: core.clustered,
    store: core.store.scope(plugin),
    redis: core.redis,
    nodeId: core.nodeId,
    production: core.production,

    namespace (name = '/', options = {}) {
      registry.use(plugin, name, options.exclusive === true, options.timeFormat)
      declared.add(name)
      const ns: PluginNamespace = {
        name,
        handle (event, schema, handler) {
          registry.handle(plugin, name, event, dispatch.listener(plugin, event, schema, handler as EventHandler))
          return ns
        },
        onConnection (hook: ConnectionHook) {
          registry.onConnection(plugin, name, hook)
          return ns
        },
        onDisconnect (hook: DisconnectHook) {
          registry.onDisconnect(plugin, name, hook)
          return ns
        },
        publish: async (input) => await publish({ ...input, namespace: name }),
        onPublish (hook) {
          registry.onPublish(plugin, name, hook)
          return ns
        },
        socketsJoin: async (target, room) => { await core.targetRooms.socketsJoin(name, target, room) },
        socketsLeave: async (target, room) => { await core.targetRooms.socketsLeave(name, target, room) },
        stats: async (o) => await core.bus.stats(name, o?.local === true)
      }
      return ns
    },

    publish,
    authenticate,

    trigger (path, options, handler) {
      if (ready) throw new PluginLifecycle(`route ${path} of "${plugin}" added after start`)
      const schema: Record<string, TSchema> = { body: options.body }
      if (options.querystring !== undefined) schema.querystring = options.querystring
      const status = options.status ?? 200
      // onRequest: credentials are checked before the body is parsed and validated (401 before 400).
      app.post(path, { schema, onRequest: authenticate(options.auth ?? 'publisher') }, async (request, reply) => {
        const result = await handler(request as any, reply)
        if (!reply.sent) reply.code(status)
        return result
      })
    },

    tenantOf (request, requested) {
      const principal = (request as FastifyRequest & { principal?: Principal | null }).principal
      if (principal === undefined || principal === null) throw new Unauthorized('route is missing realtime.authenticate()')
      return tenantOf(principal, requested)
    },

    compile,

    verifyToken: async (token) => await core.verifier.verify(token),

    expiry: (handler) => new ExpiryWheel(core.config.auth.expiryGraceMs, handler, (err) => { log.error({ err }, 'token expiry handler failed') }),

    accessPolicy: (options) => createAccessPolicy(options, log),

    cluster: {
      emit (event, data) { core.bus.emit(`${plugin}:${event}`, data) },
      on (event, handler) { core.bus.on(`${plugin}:${event}`, handler) }
    },

    provide (value) { core.provided.set(plugin, value) },

    use<T> (other: string): T {
      if (!dependencies.includes(other)) throw new PluginDependency(`"${plugin}" uses "${other}" without declaring it in dependencies`)
      if (!core.provided.has(other)) throw new PluginDependency(`"${other}" provides nothing to "${plugin}"`)
      return core.provided.get(other) as T
    }
  }
  return api
}
