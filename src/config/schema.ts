// The root config schema: every key with its default and description, and the environment variable that may set it.
import { Type, type Static } from 'typebox'
import { WebhooksOptions } from './webhooks.js'
import { fromEnv } from './env.js'

const Algorithm = Type.Enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'], {
  description: 'A JWT signature algorithm. `none` is never accepted.'
})

export const JwtOptions = Type.Object({
  secret: Type.Optional(Type.String({ minLength: 1, description: 'HMAC secret (HS256/384/512).', ...fromEnv('JWT_SECRET') })),
  publicKey: Type.Optional(Type.String({ minLength: 1, description: 'PEM public key (RS*, PS*, ES*, EdDSA). In the environment, `\\n` stands for a newline.', ...fromEnv('JWT_PUBLIC_KEY', 'pem') })),
  jwksUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'URL of a JSON Web Key Set; keys are fetched by `kid` and cached.', ...fromEnv('JWKS_URL') })),
  algorithms: Type.Optional(Type.Array(Algorithm, {
    minItems: 1,
    uniqueItems: true,
    description: 'Accepted algorithms, pinned here and never taken from the token. Default: HS256 with a secret, RS256 or ES256 (from the key type) with a public key, RS256 and ES256 with JWKS.'
  })),
  issuer: Type.Optional(Type.String({ description: 'Required `iss` claim.' })),
  audience: Type.Optional(Type.String({ description: 'Required `aud` claim.' })),
  clockToleranceSec: Type.Integer({ minimum: 0, default: 5, description: 'Seconds of clock skew tolerated on `exp` and `nbf`.' }),
  claims: Type.Object({
    userId: Type.String({ minLength: 1, default: 'sub', description: 'Claim holding the user id (a dot path for nested claims).' }),
    tenantId: Type.String({ minLength: 1, default: 'tenantId', description: 'Claim holding the tenant id.' }),
    role: Type.String({ minLength: 1, default: 'role', description: 'Claim holding the role (a string or an array of strings).' })
  }, { additionalProperties: false, default: {} }),
  defaultTenantId: Type.Optional(Type.String({
    minLength: 1,
    description: 'Tenant given to tokens without a tenant claim (single-tenant deployments). Without it such tokens are refused.'
  })),
  cacheSize: Type.Integer({ minimum: 0, default: 1000, description: 'Verified public-key tokens (RS*, PS*, ES*, EdDSA, JWKS) kept in an LRU cache (0 disables), so a client joining several namespaces is verified once. HMAC tokens are not cached: checking one costs what the cache key costs.' })
}, { additionalProperties: false, default: {} })

export const ApiKey = Type.Union([
  Type.String({ minLength: 16, description: 'An API key allowed to publish to any tenant.' }),
  Type.Object({
    key: Type.String({ minLength: 16 }),
    tenantId: Type.Optional(Type.String({ minLength: 1, description: 'When set, the key publishes only to this tenant.' })),
    name: Type.Optional(Type.String({ description: 'A label for logs.' }))
  }, { additionalProperties: false })
])

export const AuthOptions = Type.Object({
  jwt: JwtOptions,
  expiryGraceMs: Type.Integer({
    minimum: 0,
    default: 30000,
    description: 'After a connected socket\'s token expires it gets `auth:expired` and is disconnected this long after, unless it sends `auth:refresh` first.'
  }),
  apiKeys: Type.Array(ApiKey, { default: [], description: 'Keys accepted in `x-api-key` by REST triggers. In the environment: comma-separated, `key@tenant` binds a key to a tenant.', ...fromEnv('API_KEYS', 'api-keys') }),
  publishRoles: Type.Array(Type.String({ minLength: 1 }), {
    default: ['service'],
    description: 'Roles whose JWT may call REST triggers (within their own tenant).'
  })
}, { additionalProperties: false, default: {} })

/** An admin key of the inspector (`/inspector`): deployment-wide, or bound to one tenant. */
export const AdminKey = Type.Union([
  Type.String({ minLength: 16, description: 'An admin key that sees and acts on every tenant.' }),
  Type.Object({
    key: Type.String({ minLength: 16 }),
    tenantId: Type.Optional(Type.String({ minLength: 1, description: 'When set, the key sees and acts only on this tenant.' })),
    name: Type.Optional(Type.String({ description: 'A label for logs.' }))
  }, { additionalProperties: false })
])

export const AdminOptions = Type.Object({
  keys: Type.Array(AdminKey, {
    default: [],
    description: 'Keys of the live inspector (`/inspector`, HTTP Basic with the key as the password, or `x-admin-key`). Empty: the inspector is off. ' +
      'In the environment: comma-separated, `key@tenant` binds a key to a tenant.',
    ...fromEnv('ADMIN_KEYS', 'api-keys')
  })
}, { additionalProperties: false, default: {} })

export const SocketIoOptions = Type.Object({
  path: Type.String({ pattern: '^/', default: '/socket.io', description: 'HTTP path of the Socket.IO endpoint (the chat channels profile uses /api/socket.io).' }),
  pingInterval: Type.Integer({ minimum: 1000, default: 25000, description: 'ms between server pings.' }),
  pingTimeout: Type.Integer({ minimum: 1000, default: 20000, description: 'ms without a pong before the connection is considered closed.' }),
  connectTimeout: Type.Integer({ minimum: 1000, default: 45000, description: 'ms a client has to join a namespace after the handshake.' }),
  maxHttpBufferSize: Type.Integer({ minimum: 1024, default: 1000000, description: 'Largest message in bytes a client may send.' }),
  transports: Type.Array(Type.Enum(['polling', 'websocket']), { minItems: 1, uniqueItems: true, default: ['polling', 'websocket'] }),
  cors: Type.Object({
    origins: Type.Array(Type.String(), { default: [], description: 'Allowed browser origins for Socket.IO and REST; `*` allows any. Empty: same origin only.' }),
    credentials: Type.Boolean({ default: false })
  }, { additionalProperties: false, default: {} }),
  connectionStateRecovery: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'Replay the events a client missed while briefly disconnected (memory or Redis streams).' }),
    maxDisconnectionDurationMs: Type.Integer({ minimum: 1000, default: 120000 })
  }, { additionalProperties: false, default: {} }),
  fastBroadcast: Type.Boolean({
    default: true,
    description: 'Deliver broadcasts to idle websocket clients by writing one pre-built frame straight to the connection, ' +
      'and packets for one socket (acknowledgements, direct emits, the namespace\'s CONNECT answer) as one frame the same way, ' +
      'with the same bytes, order and semantics as Socket.IO\'s own path (which is used otherwise): less CPU per message. ' +
      'Set false to use Socket.IO\'s path for everything.'
  }),
  maxBufferedBytes: Type.Integer({
    minimum: 0,
    default: 4194304,
    description: 'Bytes that may wait to be written to one client (Engine.IO\'s write buffer and, on websocket, the connection\'s): ' +
      'a client that stops reading is disconnected as a slow consumer (logged at warn with reason "slow") once a message would take it over this. ' +
      'A message is always written when nothing waits. 0: no bound. Default 4 MiB.'
  })
}, { additionalProperties: false, default: {} })

export const RedisOptions = Type.Object({
  url: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'Redis URL; when set, Socket.IO uses the Redis streams adapter and stores use Redis.', ...fromEnv('REDIS_URL') })),
  keyPrefix: Type.String({ minLength: 1, default: 'rt', description: 'Prefix of every key, stream and channel, so several deployments can share one Redis.' }),
  connectTimeoutMs: Type.Integer({ minimum: 100, default: 10000 }),
  adapter: Type.Object({
    blockTimeInMs: Type.Integer({ minimum: 10, default: 5000, description: 'XREAD BLOCK time of the streams adapter; shutdown may wait this long.' }),
    maxLen: Type.Integer({ minimum: 100, default: 10000, description: 'Approximate length of the Redis stream (bounds replay on recovery).' }),
    readCount: Type.Integer({ minimum: 1, default: 100 })
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false, default: {} })

/** A token bucket: `rate` events per second refill it, `burst` events may pass at once. */
export const EventLimit = Type.Object({
  rate: Type.Number({ minimum: 0, description: 'Events per second a client may sustain (the bucket refills at this rate); 0: no limit.' }),
  burst: Type.Optional(Type.Integer({ minimum: 1, description: 'Events that may pass at once (the bucket size). Default: twice `rate`, at least 1.' }))
}, { additionalProperties: false })

/** The connection limits of one tenant (`limits.connections.tenants.<tenantId>`), replacing the defaults for it. */
export const TenantConnectionLimits = Type.Object({
  perUser: Type.Optional(Type.Integer({ minimum: 0, description: 'Connections of one user of this tenant (0: no limit).' })),
  perTenant: Type.Optional(Type.Integer({ minimum: 0, description: 'Connections of this tenant (0: no limit).' }))
}, { additionalProperties: false })

export const LimitsOptions = Type.Object({
  events: Type.Object({
    socket: Type.Object({
      rate: Type.Number({ minimum: 0, default: 100, description: 'Client events per second one socket may sustain, every event of every plugin counted together (auth:refresh too), unless the plugin entry gives the event a limit of its own (`plugins.<name>.limits.events`); 0: no limit. Counted on the node (a socket lives on one).' }),
      burst: Type.Optional(Type.Integer({ minimum: 1, description: 'Events one socket may send at once. Default: twice `rate`, at least 1.' }))
    }, { additionalProperties: false, default: {} }),
    user: Type.Object({
      rate: Type.Number({ minimum: 0, default: 0, description: 'Client events per second one user may sustain over all their sockets; 0 (the default): not counted. With Redis it is counted across the cluster: one Redis round trip per event.' }),
      burst: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: twice `rate`, at least 1.' }))
    }, { additionalProperties: false, default: {} }),
    tenant: Type.Object({
      rate: Type.Number({ minimum: 0, default: 0, description: 'Client events per second one tenant may sustain over all its sockets; 0 (the default): not counted. With Redis it is counted across the cluster (the same round trip as `user`).' }),
      burst: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: twice `rate`, at least 1.' }))
    }, { additionalProperties: false, default: {} }),
    flood: Type.Object({
      refusals: Type.Integer({ minimum: 0, default: 100, description: 'A socket refused this many events within `windowMs` gets an `error` event RT_ERR_FLOOD and is disconnected (`io server disconnect`: the client does not reconnect by itself); 0: never disconnected.' }),
      windowMs: Type.Integer({ minimum: 100, default: 10000, description: 'The window in which refusals are counted.' }),
      coolOffMs: Type.Integer({ minimum: 0, default: 10000, description: 'After a flood disconnect, new connections of the same user on this node are refused for this long (`connect_error` RT_ERR_RATE_LIMITED with `retryAfterMs`), so a client that reconnects at once cannot flood again; its other connections stay. 0: not refused.' })
    }, { additionalProperties: false, default: {} })
  }, { additionalProperties: false, default: {}, description: 'Rate limits of client events; over one the event is answered RT_ERR_RATE_LIMITED with `retryAfterMs`.' }),
  connections: Type.Object({
    perNode: Type.Integer({ minimum: 0, default: 0, description: 'Connections this node accepts (0, the default: no limit).' }),
    perUser: Type.Integer({ minimum: 0, default: 100, description: 'Connections of one user (a connection is one Socket.IO Manager, whatever its namespaces); counted across the cluster with Redis. 0: no limit.' }),
    perTenant: Type.Integer({ minimum: 0, default: 0, description: 'Connections of one tenant, counted across the cluster with Redis (0, the default: no limit).' }),
    tenants: Type.Record(Type.String({ minLength: 1 }), TenantConnectionLimits, { default: {}, description: 'Per tenant id, `perUser` and `perTenant` replacing the defaults for that tenant.' }),
    nodeTimeoutMs: Type.Integer({ minimum: 1000, default: 30000, description: 'With Redis, the connections counted for a node that stopped renewing its lease this long ago are dropped (a crashed node).' })
  }, { additionalProperties: false, default: {}, description: 'Connection limits; a refused connection gets a `connect_error` with data `{ code: \'RT_ERR_CONNECTION_LIMIT\', reason: \'connection_limit\' }`.' })
}, { additionalProperties: false, default: {} })

/** One REST rate-limit bucket: at most `max` requests per fixed window of `timeWindowMs`. */
const RateLimitBucket = (max: number, windowMs: number, what: string) => Type.Object({
  max: Type.Integer({ minimum: 1, default: max, description: `Requests per window ${what}.` }),
  timeWindowMs: Type.Integer({ minimum: 1000, default: windowMs, description: 'Length of the fixed window the requests are counted in (ms); once over, the client waits until it ends (`Retry-After`).' })
}, { additionalProperties: false, default: {} })

export const RateLimitOptions = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Limit REST requests (429 RT_ERR_RATE_LIMITED): per API key or user, and per client address for unauthenticated and failed requests. Counted in Redis (cluster-wide) when it is configured, in memory per node otherwise.' }),
  principal: RateLimitBucket(3000, 10000, 'of one API key (by its name) or one user (tenant and user id), whatever the address'),
  ip: RateLimitBucket(100, 60000, 'from one client address that end without an authenticated caller (missing or bad credentials, a role the route refuses, unknown routes); once over, every request from it is refused before its credentials are checked'),
  allowList: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'Client addresses never limited (as the server sees them: with server.trustProxy, taken from X-Forwarded-For).'
  })
}, { additionalProperties: false, default: {} })

export const MetricsOptions = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Count the Prometheus metrics (docs/operations.md lists them). Exposed only with `token` or `port`. false: nothing is served (`/metrics` answers RT_ERR_METRICS_DISABLED), and the work per HTTP request and per publish (counts, latencies) is skipped; a client event still adds one to a number.', ...fromEnv('METRICS_ENABLED') }),
  token: Type.Optional(Type.String({ minLength: 16, description: 'Serves `GET /metrics` on the main port to `Authorization: Bearer <token>` only (16 characters at least). Without it and without `port`, the main port answers `/metrics` with RT_ERR_METRICS_DISABLED (404).', ...fromEnv('METRICS_TOKEN') })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'Serves `GET /metrics` on a listener of its own on this port (0: any free port), without credential: keep it on a private network (see `host`). Must differ from `server.port`.', ...fromEnv('METRICS_PORT') })),
  host: Type.String({ default: '127.0.0.1', description: 'Address of the metrics listener (`port`); the loopback by default, so that only the machine (or the pod) reads it.', ...fromEnv('METRICS_HOST') }),
  processMetrics: Type.Boolean({ default: true, description: 'Node\'s process metrics (CPU, memory, event loop lag, GC, handles): prom-client\'s default collectors, under their usual names (`process_*`, `nodejs_*`).' }),
  tenantLabel: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'Adds the per-tenant families (`rt_tenant_*`: connections, broadcasts, deliveries, trigger requests). Off by default: a label per tenant is as many series as tenants.' }),
    max: Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'Tenants given a label of their own, the first seen by this process; the others are counted under `tenant="other"`.' })
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false, default: {}, description: 'Prometheus metrics: `GET /metrics` behind `token` on the main port, or on a port of its own.' })

export const PluginEntry = Type.Object({
  enabled: Type.Boolean({ default: true }),
  from: Type.Optional(Type.String({
    minLength: 1,
    description: 'Where to load the plugin from when it is not built in: a path (relative to the config file) or an npm package name.'
  })),
  options: Type.Object({}, { additionalProperties: true, default: {}, description: 'The plugin\'s options, validated by its own schema.' }),
  limits: Type.Object({
    events: Type.Record(Type.String({ minLength: 1 }), EventLimit, {
      default: {},
      description: 'Per client event of the plugin (a key of its events catalog), a per-socket limit of its own instead of `limits.events.socket`.'
    })
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false })

export const ServerConfig = Type.Object({
  $schema: Type.Optional(Type.String()),
  server: Type.Object({
    host: Type.String({ default: '0.0.0.0', description: 'Address to listen on.', ...fromEnv('HOST') }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'Port to listen on.', ...fromEnv('PORT') }),
    logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'Lowest level of the log lines written.', ...fromEnv('LOG_LEVEL') }),
    logPretty: Type.Boolean({ default: false, description: 'Colored, one-line-per-entry logs for a terminal (pino-pretty, a devDependency: not in the production image) instead of JSON lines. For development; the server does not start when pino-pretty is not installed.', ...fromEnv('LOG_PRETTY') }),
    logRepeatMs: Type.Integer({ minimum: 0, default: 60000, description: 'A line a client can repeat at will (an event nothing handles) is written at most once per socket within this many ms; the next one counts those left out (`repeated`). 0 writes every one.' }),
    trustProxy: Type.Boolean({ default: false }),
    bodyLimit: Type.Integer({ minimum: 1024, default: 1048576 })
  }, { additionalProperties: false, default: {} }),
  auth: AuthOptions,
  admin: AdminOptions,
  socketio: SocketIoOptions,
  redis: RedisOptions,
  publish: Type.Object({
    countTimeoutMs: Type.Integer({ minimum: 10, default: 1000, description: 'How long a publish waits for other nodes to report how many sockets they reached.' })
  }, { additionalProperties: false, default: {} }),
  shutdown: Type.Object({
    drainDelayMs: Type.Integer({
      minimum: 0,
      default: 5000,
      description: 'After SIGTERM the server keeps listening this long: /ready answers 503, other requests 503 RT_ERR_NOT_READY with Connection: close, sockets stay connected. ' +
        'Long enough for a load balancer to stop routing here (Kubernetes endpoint removal, or health-check interval x unhealthy threshold). 0 closes at once; SIGINT skips it.'
    }),
    timeoutMs: Type.Integer({ minimum: 100, default: 10000, description: 'Graceful shutdown gives up and exits 1 this long after the signal (drainDelayMs included).' })
  }, { additionalProperties: false, default: {} }),
  limits: LimitsOptions,
  rateLimit: RateLimitOptions,
  metrics: MetricsOptions,
  webhooks: WebhooksOptions,
  docs: Type.Object({
    openapi: Type.Object({
      enabled: Type.Boolean({ default: true, description: 'Serve the OpenAPI 3.1 document of every REST route (the core\'s and the enabled plugins\') at `docs.openapi.path`.' }),
      path: Type.String({ pattern: '^/', default: '/docs/openapi.json', description: 'Path of the OpenAPI document (JSON).' })
    }, { additionalProperties: false, default: {} }),
    asyncapi: Type.Object({
      enabled: Type.Boolean({ default: true, description: 'Serve the AsyncAPI 3 document of the socket protocol (namespaces, events, rooms, the plain WebSocket endpoint) at `docs.asyncapi.path`.' }),
      path: Type.String({ pattern: '^/', default: '/docs/asyncapi.json', description: 'Path of the AsyncAPI document (JSON).' })
    }, { additionalProperties: false, default: {} }),
    ui: Type.Boolean({ default: false, description: 'Serve Swagger UI for the OpenAPI document at `/docs` (needs docs.openapi.enabled).' })
  }, { additionalProperties: false, default: {}, description: 'Contract documents generated from the route schemas and the plugins\' event catalogs.' }),
  contracts: Type.Object({
    validateEmits: Type.Optional(Type.Boolean({
      description: 'Check every event a plugin emits to clients against its events catalog (undeclared event or payload not matching its schema: an error naming the plugin, event and field). Default: on unless NODE_ENV=production.'
    }))
  }, { additionalProperties: false, default: {} }),
  plugins: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }), PluginEntry, {
    default: {},
    propertyNames: { pattern: '^[a-z0-9][a-z0-9-]*$' },
    description: 'Plugins to load, by name (lowercase letters, digits and dashes): built-in ones by name alone, others with `from`.'
  })
}, { additionalProperties: false })

export type ServerConfig = Static<typeof ServerConfig>
export type PluginEntry = Static<typeof PluginEntry>
export type LimitsOptions = Static<typeof LimitsOptions>
export type EventLimit = Static<typeof EventLimit>
export type MetricsOptions = Static<typeof MetricsOptions>
