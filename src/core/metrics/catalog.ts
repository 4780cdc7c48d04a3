// The core's metric families: name, type, labels and meaning, the one source of the registry and of docs/operations.md.

/** One metric family as the docs list it. */
export interface MetricDefinition {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary'
  readonly help: string
  readonly labels: readonly string[]
  /** Registered only in some configurations: with Redis, or with `metrics.tenantLabel.enabled`. */
  readonly when?: 'redis' | 'tenantLabel'
}

const def = (name: string, type: MetricDefinition['type'], labels: readonly string[], help: string, when?: MetricDefinition['when']): MetricDefinition =>
  when === undefined ? { name, type, help, labels } : { name, type, help, labels, when }

/**
 * Every family of the core. Labels take bounded values only: namespaces, plugins and events come from what
 * plugins declared (an event nothing handles is counted under `event="(unknown)"`), codes from the error catalog,
 * routes are Fastify's patterns (never the raw URL); tenants have their own families, off by default and capped.
 */
export const CORE_METRICS = {
  connections: def('rt_connections', 'gauge', ['namespace', 'transport'], 'Sockets connected to this node, by namespace and Engine.IO transport (read when scraped).'),
  connectionsAccepted: def('rt_connections_accepted_total', 'counter', ['namespace'], 'Namespace connections (handshakes) accepted: authenticated and within the limits.'),
  handshakeRefusals: def('rt_handshake_refusals_total', 'counter', ['namespace', 'code'], 'Namespace connections refused, by error code: RT_ERR_AUTH_* (authentication), RT_ERR_RATE_LIMITED (cooling off after a flood), RT_ERR_CONNECTION_LIMIT.'),
  eventsIn: def('rt_events_in_total', 'counter', ['plugin', 'event'], 'Client events received, by the plugin that handles them and the event name (`plugin="core"`: auth:refresh, and `event="(unknown)"` for events nothing handles).'),
  eventsInvalid: def('rt_events_invalid_total', 'counter', ['plugin', 'event'], 'Client events whose payload failed the event\'s schema (answered RT_ERR_VALIDATION or by the plugin\'s onInvalid).'),
  eventsRateLimited: def('rt_events_rate_limited_total', 'counter', ['plugin', 'event'], 'Client events refused by the event rate limits (RT_ERR_RATE_LIMITED).'),
  broadcasts: def('rt_broadcasts_total', 'counter', ['plugin', 'namespace'], 'Publishes made on this node (one per publish, whatever the recipients), by publishing plugin (`(socket)` for ctx.publish from a socket handler).'),
  deliveries: def('rt_deliveries_total', 'counter', ['namespace'], 'Sockets of this node reached by the publishes made on this node (one add per publish: the target rooms\' sizes, so a socket in two target rooms counts twice, and excluded sockets are not taken off). Deliveries on other nodes are counted there under rt_fast_broadcast_deliveries_total, exactly.'),
  publishDuration: def('rt_publish_duration_seconds', 'histogram', [], 'From a publish being asked (a REST trigger\'s handler, a socket handler) to its frame written to this node\'s sockets; with Redis, after Redis took the event. One observation per publish.'),
  triggerDuration: def('rt_trigger_duration_seconds', 'histogram', ['plugin', 'route'], 'From a REST trigger received to its handler done, for the triggers that succeeded: authentication, validation and the handler, whose publish returns once its frame is written to this node\'s sockets (with Redis, once Redis took it). By route pattern.'),
  httpRequests: def('rt_http_requests_total', 'counter', ['route', 'method', 'status'], 'HTTP requests answered, by route pattern (`/api/tenant-broadcast/events`, never the raw URL; `(unmatched)` for no route) and status.'),
  fastBroadcastDeliveries: def('rt_fast_broadcast_deliveries_total', 'counter', ['path'], 'Deliveries of broadcasts on this node (from this node or others) while the fast broadcast is on: `path="fast"` written by it, `path="fallback"` by Socket.IO\'s path (a condition failed).'),
  fastBroadcastOn: def('rt_fast_broadcast_on', 'gauge', [], '1 while the fast broadcast path is on (socketio.fastBroadcast and tested versions), 0 once it turned off or when disabled.'),
  clusterPartial: def('rt_cluster_partial_total', 'counter', ['question'], 'Cross-node questions (`count`: recipients of a publish with count, `stats`: namespace stats) some node did not answer within publish.countTimeoutMs: answered `partial: true`.'),
  webhookAttempts: def('rt_webhook_attempts_total', 'counter', ['endpoint', 'outcome'], 'Webhook delivery attempts made by this node, by endpoint name and outcome: `delivered` (2xx), `retry` (5xx, 408, 425, 429, a time-out, a network error: tried again later), `failed` (any other status: a dead letter at once). A batch counts once.'),
  webhookDeadLetters: def('rt_webhook_dead_letters_total', 'counter', ['endpoint'], 'Webhook deliveries this node turned into dead letters (out of attempts, or failed for good): list and replay them with GET /api/webhooks/dead-letters.'),
  redisUp: def('rt_redis_up', 'gauge', [], '1 while the shared Redis connection is ready, 0 while it is lost (publishes answer 503).', 'redis'),
  adapterUp: def('rt_adapter_up', 'gauge', [], '1 while the Socket.IO Redis adapter can take part in the cluster (every connection up, stream readers started), 0 otherwise (/ready answers 503).', 'redis'),
  redisErrors: def('rt_redis_errors_total', 'counter', [], 'Errors reported by the shared Redis connection (connection refused, reset, timeouts).', 'redis'),
  redisReconnects: def('rt_redis_reconnects_total', 'counter', [], 'Reconnection attempts of the shared Redis connection.', 'redis'),
  tenantConnections: def('rt_tenant_connections', 'gauge', ['tenant'], 'Sockets connected to this node by tenant (`other` beyond metrics.tenantLabel.max tenants).', 'tenantLabel'),
  tenantBroadcasts: def('rt_tenant_broadcasts_total', 'counter', ['tenant'], 'Publishes made on this node by tenant (`other` beyond the cap).', 'tenantLabel'),
  tenantDeliveries: def('rt_tenant_deliveries_total', 'counter', ['tenant'], 'Sockets of this node reached by its publishes, by tenant (`other` beyond the cap).', 'tenantLabel')
} as const satisfies Record<string, MetricDefinition>

/** The label given to an event nothing handles, and to the publishes of socket handlers. */
export const UNKNOWN_EVENT = '(unknown)'
export const SOCKET_PUBLISHER = '(socket)'
export const UNMATCHED_ROUTE = '(unmatched)'
