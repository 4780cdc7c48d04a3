/** The errors of the tenant-broadcast plugin (codes `RT_BROADCAST_*`); the README lists them with how to fix each. */
import { defineError } from 'realtime-server'

export const UnknownEvent = defineError('RT_BROADCAST_UNKNOWN_EVENT', 'Unknown event type %s', 400,
  'Use an event type of an enabled catalog (options.catalogs) or one declared in options.customEvents; GET /api/tenant-broadcast/events lists them.')

export const TenantMismatch = defineError('RT_BROADCAST_TENANT_MISMATCH', 'Cannot act on tenant %s: %s', 403,
  'A socket belongs to the tenant of its token: send join-tenant with that tenant (reconnect with another token to change tenants). A test-event whose payload.tenantId names another tenant is a payload error instead, as on REST: RT_ERR_VALIDATION with field payload.tenantId.')

export const SubscribeRefused = defineError('RT_BROADCAST_SUBSCRIBE_REFUSED', 'Subscription to %s refused: %s', 403,
  'The room kind\'s access policy (options.rooms[].access) refused this user: list the id in the token claim, give the user one of the roles, or have the access hook answer 2xx.')

export const TooManySubscriptions = defineError('RT_BROADCAST_TOO_MANY_SUBSCRIPTIONS', 'Too many subscriptions: at most %s rooms per socket', 429,
  'Unsubscribe from rooms the client no longer shows, or raise options.maxSubscriptions.')

export const DevelopmentOnly = defineError('RT_BROADCAST_DEVELOPMENT_ONLY', 'test-event is only available in development mode', 403,
  'Set options.developmentMode to true on a development server; in production publish through POST /api/tenant-broadcast/events.')

export const IdempotencyMismatch = defineError('RT_BROADCAST_IDEMPOTENCY_MISMATCH', 'Idempotency key %s was used for another event', 422,
  'Use a fresh idempotency key for a different event; retries must send the same type, payload, target and language.')

export const IdempotencyInProgress = defineError('RT_BROADCAST_IDEMPOTENCY_IN_PROGRESS', 'An event with idempotency key %s is still being published', 409,
  'Retry shortly: another request with the same key has not finished yet.')

export const OptionsInvalid = defineError('RT_BROADCAST_OPTIONS', 'Invalid tenant-broadcast options: %s', 500,
  'Correct plugins.tenant-broadcast.options as the message says (custom event names and schemas, room kinds; developmentMode must be false when NODE_ENV=production).')

export const StatsForbidden = defineError('RT_BROADCAST_STATS_FORBIDDEN', 'Connection statistics need an API key not bound to a tenant', 403,
  'Statistics span every tenant: call the route with an x-api-key that has no tenantId.')
