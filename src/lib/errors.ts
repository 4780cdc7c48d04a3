// The error catalog: defineError() rows with a "how to fix" text, and the body clients get for any error.
import createError, { type FastifyError } from '@fastify/error'
import { format } from 'node:util'

/** One row of the error catalog: what `docs/errors.md` documents. */
export interface ErrorDefinition {
  readonly code: string
  readonly statusCode: number
  readonly message: string
  readonly fix: string
}

/** An error of the catalog, as thrown by the core and by plugins. */
export interface RealtimeError extends FastifyError {
  /** The payload field the error is about (validation errors). */
  field?: string
  /** For 503 and 429: seconds the client should wait (the `Retry-After` header); a default applies when unset. */
  retryAfter?: number
  /**
   * What the error was built with: the text that filled the message's `%s` (`Token expired` of
   * `Authentication failed: Token expired`); undefined for a message without `%s`.
   */
  readonly detail?: string
}

export type RealtimeErrorConstructor = createError.FastifyErrorConstructor<{ code: string, statusCode: number, field?: string, retryAfter?: number, readonly detail?: string }, any[]>

const catalog = new Map<string, ErrorDefinition>()

/**
 * Declares an error code once, with the text that tells an operator or a client developer how to fix it.
 * Codes are `RT_ERR_*` in the core and `RT_<PLUGIN>_*` in plugins; `%s` in the message is filled by the arguments,
 * which the error keeps as its `detail`; `options.detail` fills it when the error is built without arguments.
 *
 * @example
 * export const NotMember = defineError('RT_CHAT_NOT_MEMBER', 'Not a member of channel %s', 403,
 *   'Join the channel (channel:join) before sending to it.')
 * throw new NotMember(channelId)
 */
export function defineError (code: string, message: string, statusCode: number, fix: string, options: { detail?: string } = {}): RealtimeErrorConstructor {
  const fallback = options.detail
  const text = fallback === undefined ? message : format(message, fallback)
  const known = catalog.get(code)
  if (known !== undefined && (known.message !== text || known.statusCode !== statusCode)) {
    throw new Error(`Error code ${code} is already defined with another message`)
  }
  catalog.set(code, { code, statusCode, message: text, fix })
  const Base = createError(code, message, statusCode, Error, false)
  const hasDetail = message.includes('%s')
  /** The Fastify error, plus the `detail` it was built with (`options.detail` when built without one). */
  function CatalogError (...args: any[]): RealtimeError {
    const last = args[args.length - 1]
    const cause = last !== null && typeof last === 'object' && 'cause' in last ? args.pop() as { cause: unknown } : undefined
    if (args.length === 0 && fallback !== undefined) args.push(fallback)
    const err = (cause === undefined ? new Base(...args) : new Base(...args, cause)) as RealtimeError & { detail?: string }
    if (hasDetail && args.length > 0) err.detail = format(...args)
    if (Error.stackTraceLimit > 0) Error.captureStackTrace(err, CatalogError)
    return err
  }
  CatalogError.prototype = Base.prototype
  Object.defineProperty(CatalogError, Symbol.hasInstance, { value: (v: unknown) => v instanceof Base })
  return CatalogError as unknown as RealtimeErrorConstructor
}

/** Every error code defined so far (core and loaded plugins). */
export function errorCatalog (): ErrorDefinition[] {
  return [...catalog.values()]
}

/**
 * Whether `err` is one of the catalog's errors, safe to show to a client as it is.
 *
 * @example
 * if (!isCatalogError(err)) log.error({ err }, 'websocket message failed')   // anything else is a bug: log it
 */
export function isCatalogError (err: unknown): err is RealtimeError {
  return err instanceof Error && typeof (err as RealtimeError).code === 'string' && catalog.has((err as RealtimeError).code)
}

export const ConfigInvalid = defineError('RT_ERR_CONFIG', 'Invalid configuration: %s', 500,
  'Correct the key named in the message (its JSON path) in the config file or environment; `realtime-server check <file>` (`npm run config:check -- <file>`) checks a file without starting.')
export const PluginNotFound = defineError('RT_ERR_PLUGIN_NOT_FOUND', 'Unknown plugin %s', 500,
  'Use one of the built-in names listed in the message, or give the entry a `from` (a path relative to the config file, or an npm package name).')
export const PluginInvalid = defineError('RT_ERR_PLUGIN_INVALID', 'Invalid plugin %s', 500,
  'A plugin module must default-export the result of `definePlugin()` and export its `options` schema; see docs/writing-plugins.md.')
export const ContractBroken = defineError('RT_ERR_CONTRACT', 'Event does not match its catalog: %s', 500,
  'A plugin emitted a server event its events catalog does not declare on that namespace, or a payload that fails the declared schema (checked with contracts.validateEmits, on outside production): declare the event in the plugin\'s `events.server` or fix the payload named in the message.')
export const PluginDependency = defineError('RT_ERR_PLUGIN_DEPENDENCY', 'Plugin dependency problem: %s', 500,
  'Enable the missing plugin in `plugins`, or remove the dependency cycle named in the message.')
export const NamespaceConflict = defineError('RT_ERR_NAMESPACE_CONFLICT', 'Namespace conflict: %s', 500,
  'Two plugins want the same namespace, or the same client event on one namespace; configure one of them to use another namespace.')
export const PluginLifecycle = defineError('RT_ERR_PLUGIN_LIFECYCLE', 'Plugin API misuse: %s', 500,
  'Register namespaces, events and routes while the plugin is being set up, not after the server is ready.')

// The authentication errors keep their reason as `detail` (`Token expired`): `auth:refresh` reports it as its own.
export const AuthNoToken = defineError('RT_ERR_AUTH_NO_TOKEN', 'Authentication failed: %s', 401,
  'Send the JWT as `auth.token` in the Socket.IO handshake (a `Bearer ` prefix is accepted) or as an `Authorization: Bearer <jwt>` header.',
  { detail: 'No token provided' })
export const AuthInvalidToken = defineError('RT_ERR_AUTH_INVALID_TOKEN', 'Authentication failed: %s', 401,
  'The token is malformed, signed with another key, uses an algorithm the server does not accept (auth.jwt.algorithms), or lacks the user/tenant claims (auth.jwt.claims).',
  { detail: 'Invalid token' })
export const AuthTokenExpired = defineError('RT_ERR_AUTH_TOKEN_EXPIRED', 'Authentication failed: %s', 401,
  'Obtain a fresh token and reconnect; connected sockets can send `auth:refresh` { token } before the grace period ends.',
  { detail: 'Token expired' })
export const AuthUserMismatch = defineError('RT_ERR_AUTH_USER_MISMATCH', 'Authentication failed: %s', 401,
  'Send the same user id in `auth.userId` as in the token, or leave `auth.userId` out.',
  { detail: 'userId does not match the token' })
export const AuthRefreshRefused = defineError('RT_ERR_AUTH_REFRESH', 'Token refresh refused: %s', 401,
  'Send `auth:refresh` with a valid, unexpired token for the same user and tenant.')

export const Unauthorized = defineError('RT_ERR_UNAUTHORIZED', 'Unauthorized: %s', 401,
  'Send an API key in `x-api-key`, or `Authorization: Bearer <jwt>` whose role is listed in auth.publishRoles.')
export const Forbidden = defineError('RT_ERR_FORBIDDEN', 'Forbidden: %s', 403,
  'The credentials are valid but may not do this: a tenant-bound API key or a user token can only act within its own tenant.')
export const ValidationFailed = defineError('RT_ERR_VALIDATION', 'Invalid payload: %s', 400,
  'Correct the field named in the message; each event and route documents its payload schema.')
export const UnknownEvent = defineError('RT_ERR_UNKNOWN_EVENT', 'Unknown event %s', 404,
  'Nothing on this namespace handles the event: check its name (the message lists the handled events of the same family, e.g. the declared `subscribe:<kind>` events), the namespace, and that the plugin handling it is enabled.')
export const NotFound = defineError('RT_ERR_NOT_FOUND', 'Not found: %s', 404,
  'Check the id in the request; `no route <METHOD> <path>` means the method or path is wrong (each plugin\'s README lists its routes, under /api/<plugin>).')
export const RateLimited = defineError('RT_ERR_RATE_LIMITED', 'Rate limit exceeded: %s', 429,
  'Slow down and retry after `retryAfterMs` (socket events) or `Retry-After` (REST). Socket limits: `limits.events` and `plugins.<name>.limits.events`; REST limits: `rateLimit`.')
// The core's limits (src/core/limits): a socket disconnected for flooding, a connection refused over a limit.
export const Flooding = defineError('RT_ERR_FLOOD', 'Disconnected for flooding: %s', 429,
  'The client kept sending events after being refused RT_ERR_RATE_LIMITED (limits.events.flood.refusals within limits.events.flood.windowMs): wait `retryAfterMs` after a refusal before sending again, then reconnect.')
export const ConnectionLimited = defineError('RT_ERR_CONNECTION_LIMIT', 'Connection refused: %s', 429,
  'Too many connections for this user, tenant or node (limits.connections, with per-tenant values in limits.connections.tenants): close unused connections (one Socket.IO Manager per tab is enough for every namespace) and retry later.')
export const NotReady = defineError('RT_ERR_NOT_READY', 'Not ready: %s', 503,
  'The server is starting, shutting down, or cannot reach Redis; retry after the `Retry-After` seconds (a load balancer sends the retry to another node), or check REDIS_URL.')
export const RedisUnreachable = defineError('RT_ERR_REDIS', 'Redis unreachable: %s', 503,
  'Start Redis or correct REDIS_URL (redis.url); with Redis configured the server does not start without it.')
// The metrics endpoint (src/core/metrics).
export const MetricsDisabled = defineError('RT_ERR_METRICS_DISABLED', 'Metrics not served here: %s', 404,
  'Set metrics.token (METRICS_TOKEN) to serve GET /metrics on this port to `Authorization: Bearer <token>`, or metrics.port (METRICS_PORT) to serve it on a port of its own; metrics.enabled must be true.')
export const MetricsUnauthorized = defineError('RT_ERR_METRICS_UNAUTHORIZED', 'Unauthorized: %s', 401,
  'Send `Authorization: Bearer <metrics.token>` (the METRICS_TOKEN of the server); API keys and user tokens are not accepted on /metrics.')
// Webhooks (src/core/webhooks).
export const WebhooksOff = defineError('RT_ERR_WEBHOOKS_OFF', 'Webhooks are off: %s', 404,
  'Configure at least one endpoint in webhooks.endpoints (url, secret, events) to queue and inspect webhook deliveries.')
export const BadRequest = defineError('RT_ERR_BAD_REQUEST', 'Bad request: %s', 400,
  'The request could not be read: send a JSON body that parses (not empty when Content-Type is application/json, the length matching Content-Length), a URL with valid percent-encoding, and a well-formed HTTP request.')
export const PayloadTooLarge = defineError('RT_ERR_PAYLOAD_TOO_LARGE', 'Request body too large: %s', 413,
  'Send a smaller body; the limit is server.bodyLimit (bytes).')
export const FrameTooLarge = defineError('RT_ERR_FRAME_TOO_LARGE', 'Socket.IO message too large: %s', 413,
  'A client sent a message over socketio.maxHttpBufferSize (bytes) and its connection was closed (WebSocket close code 1009: the client sees `transport close` and reconnects). Logged by the server only: send smaller payloads (split them, or upload through REST), or raise socketio.maxHttpBufferSize.')
export const UnsupportedMediaType = defineError('RT_ERR_UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type: %s', 415,
  'Send the body as JSON with `Content-Type: application/json`.')
export const UriTooLong = defineError('RT_ERR_URI_TOO_LONG', 'URL too long: %s', 414,
  'Shorten the path: an id in the path has at most 100 characters.')
export const HeadersTooLarge = defineError('RT_ERR_HEADERS_TOO_LARGE', 'Request headers too large', 431,
  'Send smaller headers (cookies, tokens); Node.js accepts 16 KiB of headers by default (--max-http-header-size).')
export const RequestTimeout = defineError('RT_ERR_REQUEST_TIMEOUT', 'Request timeout', 408,
  'Send the whole request (headers and body) without pausing; the server stops waiting after Node.js\'s requestTimeout/headersTimeout.')
export const Internal = defineError('RT_ERR_INTERNAL', 'Internal server error', 500,
  'A bug or an unreachable dependency; the server log has the details under the same request or socket id.')

// The control routes (src/core/control).
export const RoomUndeclared = defineError('RT_ERR_ROOM_UNDECLARED', 'Room not declared: %s', 400,
  'Name a room that matches a room template declared, in its events catalog `rooms`, by a plugin on the namespace (`channel:{channelId}` accepts `channel:42`); the message lists the templates of the namespace and the namespaces that would accept the room, and the AsyncAPI document lists them as `Room <template> of <namespace>`.')

// The live inspector (src/core/inspector).
export const InspectorOff = defineError('RT_ERR_INSPECTOR_OFF', 'The inspector is off: %s', 404,
  'Set admin.keys (environment ADMIN_KEYS: comma-separated keys of at least 16 characters, `key@tenant` binds a key to one tenant) and restart; then open /inspector and sign in with any user name and a key as the password.',
  { detail: 'no admin keys are configured' })
export const AdminUnauthorized = defineError('RT_ERR_ADMIN_UNAUTHORIZED', 'Admin credentials required: %s', 401,
  'Sign in to /inspector with a key of admin.keys as the password (HTTP Basic), or send it in `x-admin-key`; API keys and JWTs are not admin credentials.')

/**
 * Whether `err` is ioredis saying that Redis could not be reached, rather than that a command failed: the
 * offline queue is off (src/core/redis.ts), so a command sent while disconnected fails at once; commands in
 * flight when the connection drops fail with MaxRetriesPerRequestError; a connection that ended says
 * "Connection is closed."; a Redis that stopped answering makes commands time out.
 */
export function isRedisUnavailable (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err.name === 'MaxRetriesPerRequestError') return true
  const m = err.message
  return m === 'Connection is closed.' || m === 'Command timed out' || m.startsWith("Stream isn't writeable")
}

/**
 * The one place where Redis connection failures become the catalog's `NotReady` (503): socket acks go
 * through `clientError`, REST answers through the error handler (src/core/http-errors.ts).
 */
export function asCatalogError (err: unknown): unknown {
  return !isCatalogError(err) && isRedisUnavailable(err) ? new NotReady('Redis is unreachable', { cause: err }) : err
}

/**
 * The `{ code, message, field? }` body sent to clients for any error: catalog errors as they are, others masked.
 *
 * @example
 * ws.send(JSON.stringify({ type: 'error', error: clientError(err) }))   // never a stack trace
 */
export function clientError (err: unknown): { code: string, message: string, field?: string } {
  err = asCatalogError(err)
  if (isCatalogError(err)) {
    return err.field === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, field: err.field }
  }
  return { code: 'RT_ERR_INTERNAL', message: 'Internal server error' }
}
