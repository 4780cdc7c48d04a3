/** The plugin API (`app.realtime`): what a plugin may use of the core, and nothing else. */
import type { PluginWebhooks } from '../webhooks/webhooks.js'
import type {} from '@fastify/swagger'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Redis } from 'ioredis'
import type { IncomingMessage } from 'node:http'
import { IsObject } from 'typebox'
import { Type, type Static, type TSchema } from 'typebox'
import { createAccessPolicy, type AccessPolicy, type AccessPolicyOptions } from '../access-policy.js'
import { tenantOf, type AuthMode } from '../auth/rest-auth.js'
import { ExpiryWheel, type ExpiryHandler, type ExpiryService } from '../auth/expiry.js'
import type { Identity } from '../auth/tokens.js'
import type { Core } from '../core.js'
import { PluginDependency, PluginInvalid, PluginLifecycle, Unauthorized, type RealtimeError } from '../../lib/errors.js'
import { TenantId } from '../../lib/ids.js'
import type { NamespaceStats } from '../cluster/bus.js'
import type { ConnectionHook, DisconnectHook, EventHandler, IdentityHook, PublishHook, TimeFormat } from '../namespaces/registry.js'
import type { PublishInput, PublishResult, PublishTarget } from '../publish.js'
import type { SocketContext } from '../socket-context.js'
import type { SharedStore } from '../store/types.js'
import { compile, type Validator } from '../../lib/validation.js'
import type { Principal } from '../auth/rest-auth.js'
import type { HandledEvent } from './catalog.js'
import { pluginMetrics, type PluginMetrics } from '../metrics/plugin-metrics.js'

/** Options of `ns.handle`. */
export interface HandleOptions {
  /**
   * Answers a payload that fails the schema instead of the core (whose answer is `RT_ERR_VALIDATION` naming the
   * field), for a protocol that reports failures its own way; `error` is that RT_ERR_VALIDATION, and the return
   * value is the ack. An event over its rate limit is answered through it too, with `RT_ERR_RATE_LIMITED`
   * (carrying `retryAfterMs`, and `limit: { events, perMs }`).
   *
   * @example
   * ns.handle('message:send', SendMessage, send, {
   *   onInvalid: (ctx, raw, error) => { ctx.emit('message:failed', { code: error.code, field: error.field }); return { error: clientError(error) } }
   * })
   */
  onInvalid?: (ctx: SocketContext, data: unknown, error: RealtimeError) => unknown
  /**
   * The event's own per-socket rate limit (`rate` events per second, `burst` at once), instead of the shared
   * `limits.events.socket`; the config's `plugins.<name>.limits.events[event]` overrides it. `rate: 0`: none.
   */
  limit?: { rate: number, burst?: number }
}

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
  handle<S extends TSchema> (event: string, schema: S, handler: (ctx: SocketContext, data: Static<S>) => unknown, options?: HandleOptions): this
  /** Runs for every authenticated socket, after it joined its tenant, user and role rooms. */
  onConnection (hook: (ctx: SocketContext) => unknown): this
  onDisconnect (hook: (ctx: SocketContext, reason: string) => unknown): this
  /**
   * Runs for each socket of the namespace whose identity an accepted `auth:refresh` changed (a new `exp`, other
   * roles), with the identity before; `ctx.user` is the new one.
   *
   * @example
   * ns.onIdentityChange((ctx, previous) => { if (ctx.user.roles.join() !== previous.roles.join()) resync(ctx) })
   */
  onIdentityChange (hook: (ctx: SocketContext, previous: Identity) => unknown): this
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

/** What the contract documents need of a trigger route (its `config.contract`): who may call it and what it may answer. */
export interface TriggerContract {
  /** The plugin; `control` for the core's control routes (src/core/control). */
  readonly plugin: string
  readonly auth: AuthMode
  readonly tenant: boolean
  readonly status: number
  readonly errors: readonly string[]
  /** It has a body, querystring or params schema (so RT_ERR_VALIDATION). */
  readonly validated: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on trigger routes, read by the OpenAPI document (src/core/contracts/openapi.ts). */
    contract?: TriggerContract
  }
}

/** HTTP methods of a REST trigger. */
export type TriggerMethod = 'POST' | 'PUT' | 'GET' | 'DELETE'

interface TriggerCommon<Q extends TSchema | undefined, P extends TSchema | undefined, T extends boolean | undefined> {
  querystring?: Q
  params?: P
  /** Who may call it; `publisher` by default. */
  auth?: AuthMode
  /** HTTP status of a success; 200 by default. */
  status?: number
  /**
   * Adds an optional `tenantId` to the body (POST, PUT) or the querystring (GET, DELETE) and resolves
   * `request.tenantId` (taking it out of the body or querystring) once the request is validated: the caller's own tenant (a user token, a tenant-bound key;
   * naming another is 403), or the one an unbound API key names (400 naming `tenantId` when it names none).
   */
  tenant?: T
  /** Catalog codes (`RT_<PLUGIN>_...`, `RT_ERR_...`) the route may answer besides the core's own; documented in the OpenAPI document. */
  errors?: readonly string[]
  /** The schema of a success answer, for the OpenAPI document; it also serializes the answer (fields it does not declare are left out). */
  response?: TSchema
  /** One line for the OpenAPI document. */
  summary?: string
  description?: string
}

/** Options of a REST trigger: a body for POST (the default) and PUT, none for GET and DELETE. */
export type TriggerOptions<
  B extends TSchema | undefined,
  Q extends TSchema | undefined = undefined,
  P extends TSchema | undefined = undefined,
  T extends boolean | undefined = undefined
> = TriggerCommon<Q, P, T> & ({ method?: 'POST' | 'PUT', body: B } | { method: 'GET' | 'DELETE', body?: undefined })

type StaticOf<S> = S extends TSchema ? Static<S> : unknown

export interface TriggerRequest<B, Q = unknown, P = unknown, T extends boolean | undefined = undefined> extends FastifyRequest {
  body: B
  query: Q
  params: P
  principal: Principal
  /** The tenant the request acts on, with `tenant: true`. */
  tenantId: T extends true ? string : undefined
}

/**
 * Services plugins provide to the plugins that depend on them, by plugin name. A plugin that provides one
 * declares its type here by declaration merging, which types both its `provide` and its dependents' `use`.
 *
 * @example
 * declare module 'realtime-server' {
 *   interface PluginServices { 'commerce-namespaces': CommerceEvents }
 * }
 */
export interface PluginServices {}

/** Redis primitives for a plugin's own structures (present when Redis is configured): its keys and its Lua. */
export interface RedisPrimitives {
  /** The Redis key of a plugin key (the server's prefix and the plugin's name before it): `store.keyOf(key)`. */
  key (key: string): string
  /**
   * Defines a Lua script once (ioredis `defineCommand`: EVALSHA, and EVAL again when Redis lost it) and returns
   * the function that runs it with `keys` full Redis keys (from `key()`) and its arguments. Redis being
   * unreachable rejects with RT_ERR_NOT_READY, as every store call does. A JSON string given to a script must
   * be well-formed: Redis's cjson cannot read a lone UTF-16 surrogate.
   *
   * @example
   * const claim = realtime.redis.script<number>('claim', { keys: 1, lua: "return redis.call('SET', KEYS[1], ARGV[1], 'NX') and 1 or 0" })
   * const won = await claim([realtime.redis.key(`lock:${tenantId}:${id}`)], nodeId)
   */
  script<R = unknown> (name: string, definition: { lua: string, keys: number }): (keys: readonly string[], ...args: Array<string | number>) => Promise<R>
}

/** The core's token checks, for a transport of a plugin's own (a plain WebSocket endpoint). */
export interface PluginAuth {
  /** The token of an HTTP upgrade request: the `token` query parameter, else `Authorization: Bearer`. */
  token (request: IncomingMessage): string | undefined
  /**
   * Verifies a token as the Socket.IO handshake does: rejects only with an RT_ERR_AUTH_* catalog error
   * (RT_ERR_AUTH_NO_TOKEN for none), whose message and code are what the handshake would answer.
   */
  verify (token: string | undefined): Promise<Identity>
  /**
   * Checks a refresh as `auth:refresh` does: `payload` is `{ token }` or the token (`Bearer ` optional), for the
   * same user and tenant as `current`. Rejects with RT_ERR_VALIDATION naming `token` or RT_ERR_AUTH_REFRESH.
   */
  refresh (current: Identity, payload: unknown): Promise<Identity>
}

/** A typed message channel between the nodes of one plugin. */
export interface ClusterChannel<T> {
  /**
   * Runs the channel's handlers on every node, this one included (a local call without Redis). Throws
   * RT_ERR_NOT_READY, and runs nothing, while Redis is unreachable.
   */
  emit (data: T): void
  /** Handles the channel's messages; a message from another node that fails the channel's schema is logged and dropped. */
  on (handler: (data: T) => void): void
}

/**
 * The API a plugin gets as `app.realtime`: everything it needs, without importing core files.
 * Namespaces, events and routes are declared while the plugin sets up; publishing works any time after.
 */
export interface RealtimeApi<N extends string = string> {
  /** The plugin's name. */
  readonly plugin: N
  readonly log: FastifyBaseLogger
  /** True when several nodes share Redis. */
  readonly clustered: boolean
  /** Shared state, keys prefixed with the plugin's name. */
  readonly store: SharedStore
  /** Keys and Lua scripts for structures of the plugin's own, when Redis is configured. */
  readonly redis: RedisPrimitives | undefined
  /** This process's id in the cluster (unique per start). */
  readonly nodeId: string
  /** The server runs in production (`NODE_ENV=production`): refuse development-only options at setup. */
  readonly production: boolean
  /** The path Socket.IO serves (`socketio.path`), which a transport of the plugin's own must not overlap. */
  readonly socketioPath: string
  /** The core's token checks, for a transport of the plugin's own. */
  readonly auth: PluginAuth
  /**
   * The plugin's Prometheus metrics (`rt_plugin_<plugin>_<name>`), served with the core's on `GET /metrics`;
   * declared while the plugin sets up.
   *
   * @example
   * const duplicates = realtime.metrics.counter('duplicates_total', { help: 'Retries answered with the original message.' })
   * realtime.metrics.gauge('online_users', { help: 'Users online on this node.', collect: () => online.size })
   */
  readonly metrics: PluginMetrics
  /** Events for the backends' webhook endpoints (`webhooks` in the config; docs/webhooks.md). */
  readonly webhooks: PluginWebhooks

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
   * An `onRequest` hook that authenticates the caller and sets `request.principal`, for a route a trigger cannot
   * express. As `onRequest`, a caller without credentials gets 401 before the body is read or validated.
   *
   * @example
   * app.get('/online', { schema: { querystring: Query }, onRequest: app.realtime.authenticate('user') }, handler)
   */
  authenticate (mode?: AuthMode): onRequestAsyncHookHandler

  /**
   * A REST trigger: `<method> /api/<plugin><path>` with a validated body (or querystring), behind API-key/JWT auth
   * (checked first: a caller without credentials gets 401 whatever the body).
   *
   * @example
   * realtime.trigger('/events', { body: Event, tenant: true, status: 202 }, async (request) =>
   *   await ns.publish({ tenantId: request.tenantId, event: request.body.type, payload: request.body.payload }))
   */
  trigger<
    B extends TSchema | undefined,
    Q extends TSchema | undefined = undefined,
    P extends TSchema | undefined = undefined,
    T extends boolean | undefined = undefined
  > (
    path: string,
    options: TriggerOptions<B, Q, P, T>,
    handler: (request: TriggerRequest<StaticOf<B>, StaticOf<Q>, StaticOf<P>, T>, reply: FastifyReply) => Promise<unknown>
  ): void

  /** The tenant an authenticated request may act on, for a route a trigger with `tenant: true` cannot express. */
  tenantOf (request: FastifyRequest, requested?: string): string

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

  /**
   * Builds an access policy from its options (`AccessPolicyOptions`): tenant, claim, roles or a backend hook.
   *
   * @example
   * const policy = realtime.accessPolicy({ mode: 'roles', roles: ['agent'] })
   * const { allowed } = await policy.check(ctx.user, 'channel', channelId)
   */
  accessPolicy (options: AccessPolicyOptions): AccessPolicy

  /**
   * A typed message channel between this plugin's instances on every node, through the Socket.IO adapter.
   *
   * @example
   * const invalidate = realtime.channel('invalidate', Type.Object({ tenantId: Type.String() }))
   * invalidate.on(({ tenantId }) => { cache.delete(tenantId) })
   * invalidate.emit({ tenantId })
   */
  channel<S extends TSchema> (name: string, schema: S): ClusterChannel<Static<S>>

  /**
   * Compiles a TypeBox schema (for payloads validated outside `handle`).
   *
   * @example
   * const check = realtime.compile(Message)
   * if (!check.check(value)) throw validationError(check.problems(value)[0]!)
   */
  compile<S extends TSchema> (schema: S): Validator<Static<S>>

  /** Makes this plugin's service (declared in `PluginServices` under its name) available to its dependents. */
  provide (value: N extends keyof PluginServices ? PluginServices[N] : never): void
  /**
   * The service of a plugin listed in this plugin's dependencies.
   *
   * @example
   * const commerce = app.realtime.use('commerce-namespaces')
   */
  use<K extends keyof PluginServices> (plugin: K): PluginServices[K]
}

/** Adds an optional `tenantId` to an object schema (a trigger's body or querystring with `tenant: true`). */
function withTenantId (plugin: string, path: string, schema: TSchema | undefined): TSchema {
  if (schema === undefined) return Type.Object({ tenantId: Type.Optional(TenantId) })
  if (!IsObject(schema)) throw new PluginInvalid(`"${plugin}": route ${path} has tenant: true, so its body or querystring must be an object schema`)
  if (Object.hasOwn(schema.properties, 'tenantId')) throw new PluginInvalid(`"${plugin}": route ${path} declares tenantId itself; tenant: true adds it`)
  const { type: _type, properties, required: _required, ...rest } = schema
  return Type.Object({ ...properties, tenantId: Type.Optional(TenantId) }, rest)
}

/** A name ioredis can define as a command: the plugin's name and the script's, letters and digits only. */
const commandName = (plugin: string, name: string): string => `rt_${plugin}_${name}`.replace(/[^A-Za-z0-9_]/g, '_')

function redisPrimitives (redis: Redis, store: SharedStore, plugin: string): RedisPrimitives {
  const defined = new Map<string, string>()
  type Command = (...args: Array<string | number>) => Promise<unknown>
  return {
    key: (key) => store.keyOf(key),
    script<R> (name: string, definition: { lua: string, keys: number }) {
      const command = commandName(plugin, name)
      const known = defined.get(command)
      if (known !== undefined && known !== definition.lua) throw new PluginInvalid(`"${plugin}": Lua script "${name}" is defined twice with different code`)
      if (known === undefined) {
        redis.defineCommand(command, { numberOfKeys: definition.keys, lua: definition.lua })
        defined.set(command, definition.lua)
      }
      const run = (redis as unknown as Record<string, Command>)[command]!.bind(redis)
      return async (keys: readonly string[], ...args: Array<string | number>): Promise<R> => {
        if (keys.length !== definition.keys) throw new PluginInvalid(`"${plugin}": Lua script "${name}" takes ${definition.keys} keys, given ${keys.length}`)
        return await run(...keys, ...args) as R
      }
    }
  }
}

/**
 * The `onRequest` hook that authenticates a caller as `mode` and sets `request.principal`. Named `realtimeAuth`:
 * the inspector's trigger calls find it by that name (src/core/inspector/trigger-calls.ts).
 */
export const authenticateAs = (core: Core, mode: AuthMode = 'publisher'): onRequestAsyncHookHandler =>
  async function realtimeAuth (request: FastifyRequest) {
    request.principal = await core.rest.authenticate(request, mode)
  }

/** The tenant an authenticated request may act on (see `tenantOf`); a route without `authenticateAs` is a bug, answered 401. */
export function tenantOfRequest (request: FastifyRequest, requested: string | undefined): string {
  const principal = request.principal
  if (principal === undefined || principal === null) throw new Unauthorized('route is missing realtime.authenticate()')
  return tenantOf(principal, requested)
}

/**
 * Adds a REST trigger to `app` (whose prefix is the route's: `/api/<plugin>`, or `/api/control` for the core's control
 * routes): the caller authenticated in `onRequest` (401 before any 400), the schemas validated, the tenant resolved
 * with `tenant: true`, `config.contract` for the OpenAPI document, the success status and the trigger duration metric.
 * `owner` names the plugin (or `control`) in the documents, the metric and the errors.
 */
export function addTrigger<
  B extends TSchema | undefined,
  Q extends TSchema | undefined = undefined,
  P extends TSchema | undefined = undefined,
  T extends boolean | undefined = undefined
> (
  core: Core,
  app: FastifyInstance,
  owner: string,
  path: string,
  options: TriggerOptions<B, Q, P, T>,
  handler: (request: TriggerRequest<StaticOf<B>, StaticOf<Q>, StaticOf<P>, T>, reply: FastifyReply) => Promise<unknown>
): void {
  const method = options.method ?? 'POST'
  const inBody = method === 'POST' || method === 'PUT'
  const schema: Record<string, TSchema> = {}
  if (options.body !== undefined) schema.body = options.body
  if (options.querystring !== undefined) schema.querystring = options.querystring
  if (options.params !== undefined) schema.params = options.params
  const tenant = options.tenant === true
  if (tenant) {
    const where = inBody ? 'body' : 'querystring'
    schema[where] = withTenantId(owner, path, schema[where])
  }
  const status = options.status ?? 200
  const metrics = core.metrics
  // The series of this route, resolved once.
  const elapsed = metrics.triggerDuration.labels({ plugin: owner, route: app.prefix + path })
  const auth = options.auth ?? 'publisher'
  const contract: TriggerContract = { plugin: owner, auth, tenant, status, errors: options.errors ?? [], validated: Object.keys(schema).length > 0 }
  app.route({
    method,
    url: path,
    schema: { ...schema, ...(options.response === undefined ? {} : { response: { [status]: options.response } }), tags: [owner], ...(options.summary === undefined ? {} : { summary: options.summary }), ...(options.description === undefined ? {} : { description: options.description }) },
    config: { contract },
    // Credentials are checked before the body is parsed and validated (401 before 400).
    onRequest: authenticateAs(core, auth),
    // The tenant once the request is valid: a malformed tenantId is a 400 before any 403.
    preHandler: tenant
      ? async (request: FastifyRequest) => {
        // Taken out of the body (or query), so the handler sees exactly its own schema's type.
        const source = (inBody ? request.body : request.query) as { tenantId?: string }
        const requested = source.tenantId
        delete source.tenantId
        ;(request as FastifyRequest & { tenantId: string }).tenantId = tenantOfRequest(request, requested)
      }
      : undefined,
    handler: async (request, reply) => {
      const result = await handler(request as any, reply)
      if (!reply.sent) reply.code(status)
      if (metrics.enabled) elapsed.observe(reply.elapsedTime / 1000)
      return result
    }
  })
}

/** What a plugin's API collected while it set up: the handlers it registered (checked against its catalog). */
export interface PluginApiSetup<N extends string> {
  readonly api: RealtimeApi<N>
  readonly handled: HandledEvent[]
  /** The namespaces it declared with `namespace()`. */
  readonly namespaces: ReadonlySet<string>
}

/**
 * A handler whose successful events are queued for the webhook endpoints as `client.<event>` before the ack goes.
 * A failure to queue is logged; the client still gets the handler's answer (the event was handled).
 */
function forwarding (core: Core, plugin: string, namespace: string, event: string, handler: EventHandler, log: FastifyBaseLogger): EventHandler {
  const type = `client.${event}`
  return async (ctx, data) => {
    const result = await handler(ctx, data)
    const { userId, tenantId } = ctx.user
    try {
      await core.webhooks.emit({ type, tenantId, data: { plugin, namespace, event, userId, socketId: ctx.id, payload: data } })
    } catch (err) {
      log.error({ err, event, userId, tenantId }, 'client event not forwarded to the webhooks')
    }
    return result
  }
}

export function createPluginApi<N extends string> (core: Core, plugin: N, dependencies: readonly string[], app: FastifyInstance, forwarded: ReadonlySet<string> = new Set()): PluginApiSetup<N> {
  const declared = new Set<string>()
  const handled: HandledEvent[] = []
  const { registry, dispatch } = core
  const log = core.log.child({ plugin })
  const store = core.store.scope(plugin)
  let ready = false
  app.addHook('onReady', async () => { ready = true })

  const publish = async (input: PublishInput): Promise<PublishResult> => {
    const ns = input.namespace ?? '/'
    if (!declared.has(ns)) throw new PluginLifecycle(`plugin "${plugin}" publishes to namespace "${ns}" without declaring it with realtime.namespace()`)
    return await core.publisher.publish(input, plugin)
  }

  const authenticate = (mode: AuthMode = 'publisher'): onRequestAsyncHookHandler => authenticateAs(core, mode)

  const api: RealtimeApi<N> = {
    plugin,
    log,
    clustered: core.clustered,
    store,
    redis: core.redis === undefined ? undefined : redisPrimitives(core.redis, store, plugin),
    nodeId: core.nodeId,
    production: core.production,
    socketioPath: core.config.socketio.path,
    auth: core.auth,
    metrics: pluginMetrics(core.metrics.registry, plugin, () => !ready),
    webhooks: core.webhooks,

    namespace (name = '/', options = {}) {
      registry.use(plugin, name, options.exclusive === true, options.timeFormat)
      declared.add(name)
      const ns: PluginNamespace = {
        name,
        handle (event, schema, handler, options) {
          // Only the events marked `forward` that an endpoint takes pay for forwarding.
          const h = forwarded.has(event) && core.webhooks.wants(`client.${event}`) ? forwarding(core, plugin, name, event, handler as EventHandler, log) : handler as EventHandler
          registry.handle(plugin, name, event, dispatch.listener(plugin, event, schema, h, options?.onInvalid, options?.limit))
          handled.push({ namespace: name, event, schema })
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
        onIdentityChange (hook: IdentityHook) {
          registry.onIdentityChange(plugin, name, hook)
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
      addTrigger(core, app, plugin, path, options, handler)
    },

    tenantOf: tenantOfRequest,

    compile,

    expiry: (handler) => new ExpiryWheel(core.config.auth.expiryGraceMs, handler, (err) => { log.error({ err }, 'token expiry handler failed') }),

    accessPolicy: (options) => createAccessPolicy(options, log),

    channel<S extends TSchema> (name: string, schema: S): ClusterChannel<Static<S>> {
      const event = `${plugin}:${name}`
      const check = compile(schema)
      return {
        emit (data) { core.bus.emit(event, data) },
        on (handler) {
          core.bus.on(event, (data: unknown) => {
            if (check.check(data)) handler(data)
            else log.warn({ channel: name, problem: check.problems(data)[0] }, 'cluster message dropped: it does not match its channel schema')
          })
        }
      }
    },

    provide (value) { core.provided.set(plugin, value) },

    use<K extends keyof PluginServices> (other: K): PluginServices[K] {
      const name = other as string
      if (!dependencies.includes(name)) throw new PluginDependency(`"${plugin}" uses "${name}" without declaring it in dependencies`)
      if (!core.provided.has(name)) throw new PluginDependency(`"${name}" provides nothing to "${plugin}"`)
      return core.provided.get(name) as PluginServices[K]
    }
  }
  return { api, handled, namespaces: declared }
}
