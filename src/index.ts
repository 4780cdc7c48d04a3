/**
 * The public API for plugin authors. A plugin imports from `realtime-server` only, never from core files.
 * See docs/writing-plugins.md and examples/hello-plugin/.
 */
import type { Principal } from './core/auth/rest-auth.js'
import type { RealtimeApi } from './core/plugins/api.js'

export { Type } from 'typebox'
export type { Static, TSchema } from 'typebox'
export type { ServerConfig } from './config/schema.js'
export { AccessData, AccessPolicyOptions, createAccessPolicy, type AccessDecision, type AccessPolicy } from './core/access-policy.js'
export type { AuthMode, Principal } from './core/auth/rest-auth.js'
export type { ExpiryHandler, ExpiryService } from './core/auth/expiry.js'
export { bareToken, bearerToken, claimAt } from './core/auth/credentials.js'
export type { Identity } from './core/auth/tokens.js'
export {
  defineError, errorCatalog, clientError, isCatalogError,
  ValidationFailed, Forbidden, Unauthorized, NotFound, NotReady, RateLimited, Internal,
  type ErrorDefinition, type RealtimeError, type RealtimeErrorConstructor
} from './lib/errors.js'
export type { NamespaceStats } from './core/cluster/bus.js'
export type { GaugeCollect, MetricOptions, PluginCounter, PluginGauge, PluginHistogram, PluginMetrics } from './core/metrics/plugin-metrics.js'
export type { IdentityHook, PublishedEvent, PublishHook, TimeFormat } from './core/namespaces/registry.js'
export type {
  ClusterChannel, HandleOptions, PluginAuth, PluginNamespace, PluginServices, RealtimeApi, RedisPrimitives, TriggerMethod, TriggerOptions, TriggerRequest
} from './core/plugins/api.js'
export { clientEvent, serverEvent, type ClientEvent, type EventCatalog, type RoomEntry, type ServerEvent, type WebSocketCatalog } from './core/plugins/catalog.js'
export { definePlugin, type PluginApp, type PluginDefinition, type RealtimePlugin } from './core/plugins/define.js'
export type { EventMeta, PublishInput, PublishResult, PublishTarget } from './core/publish.js'
export type { SocketContext } from './core/socket-context.js'
export type { RealtimeSocket, SocketData } from './core/socket-types.js'
export type { SharedStore, TtlOptions } from './core/store/types.js'
export type { PluginWebhooks, WebhookEvent } from './core/webhooks/webhooks.js'
export { Id, TenantId, type IdOptions } from './lib/ids.js'
export { compile, validationError, type Problem, type Validator } from './lib/validation.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The plugin API; present in a plugin's own context (see definePlugin). */
    realtime: RealtimeApi
  }
  interface FastifyRequest {
    /** Who called the route, once `realtime.authenticate()` ran. */
    principal: Principal | null
  }
}
