/**
 * sessions: live chatbot session tracking (WhatsApp builder gateway, "Session Tracking Events").
 *
 * - socket (`/messages` by default): `session:join` / `session:leave` { sessionId }, into the tenant's
 *   `session:{sessionId}` room; the join ack (and a `session:state` event) carries the snapshot;
 * - REST: `POST /api/sessions/{message-sent,node-executed,status-changed,completed}` apply the event to
 *   the session's state (409 when the session refuses it) and publish it to the room;
 *   `GET /api/sessions/:sessionId` and `GET /api/sessions` read the state and the active sessions;
 * - store: the plugin's SharedStore (memory, or Redis shared by every node). See README.md.
 */
import { definePlugin } from 'realtime-server'
import { events } from './events.js'
import { registerRoutes } from './routes.js'
import { options } from './schema.js'
import { registerSocketHandlers } from './socket.js'
import { SessionMetrics } from './metrics.js'
import { createSessionStore } from './store/index.js'

export { events, options }
export type { SessionsOptions } from './schema.js'

export default definePlugin({
  name: 'sessions',
  options,
  events,
  setup (app, opts) {
    const { realtime } = app
    const ns = realtime.namespace(opts.namespace)
    const sessions = createSessionStore(realtime, opts)
    const policy = realtime.accessPolicy(opts.access)
    registerSocketHandlers(app, { ns, sessions, policy })
    registerRoutes(app, { ns, sessions, policy, options: opts, metrics: new SessionMetrics(realtime, opts.activeTtlMs) })
  }
})
