// The catalog errors of the core's limits: a client disconnected for flooding, a connection refused over a limit.
import { defineError } from '../../lib/errors.js'

export const Flooding = defineError('RT_ERR_FLOOD', 'Disconnected for flooding: %s', 429,
  'The client kept sending events after being refused RT_ERR_RATE_LIMITED (limits.events.flood.refusals within limits.events.flood.windowMs): wait `retryAfterMs` after a refusal before sending again, then reconnect.')
export const ConnectionLimited = defineError('RT_ERR_CONNECTION_LIMIT', 'Connection refused: %s', 429,
  'Too many connections for this user, tenant or node (limits.connections, with per-tenant values in limits.connections.tenants): close unused connections (one Socket.IO Manager per tab is enough for every namespace) and retry later.')
