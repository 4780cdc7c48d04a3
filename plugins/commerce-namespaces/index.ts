/**
 * commerce-namespaces: the commerce back office protocol's role-filtered namespaces (orders, customers, inventory, products,
 * payments, system) and its 23 event types, delivered as `{ type, namespace, data, timestamp }` envelopes
 * on Socket.IO (`/<namespace>`, handlers get `(data, envelope)`) and on a plain WebSocket endpoint.
 *
 * - REST: `POST /api/commerce-namespaces/events` { type, data, tenantId?, roles?, userIds?, excludeUserIds?, excludeSessionIds?, namespace?, count? }
 * - Socket.IO: connect to `/orders`, `/payments`, ... with the JWT; nothing to send.
 * - WebSocket: `ws://host/ws/commerce?token=<jwt>&namespaces=orders,payments` (see websocket/).
 * - Service: `realtime.use('commerce-namespaces').publish(tenantId, type, data, options)` (`CommerceEvents`).
 */
import { definePlugin } from 'realtime-server'
import { bridgeToWebSockets } from './bridge.js'
import { CommerceConfigInvalid } from './errors.js'
import { catalog } from './events.js'
import { matrixProblems } from './matrix.js'
import { createPublisher, Delivery, payloadValidators } from './publisher.js'
import { registerRoutes } from './routes.js'
import { options } from './schema.js'
import { registerSocketHandlers } from './socket.js'
import { pathProblems, serveWebSocket } from './websocket/endpoint.js'
import { clientMessages, eventMessages, serverMessages } from './websocket/messages.js'
import type { CommerceEvents } from './publisher.js'

export { options }
export type { BroadcastOptions } from './audience.js'
export type { EventEnvelope, EventPayload, EventType } from './events.js'
export type { CommerceEvents, PublishOptions, PublishOutcome } from './publisher.js'
export type { CommerceOptions } from './schema.js'

declare module 'realtime-server' {
  interface PluginServices {
    /** Publishing commerce events from a plugin that depends on commerce-namespaces. */
    'commerce-namespaces': CommerceEvents
  }
}

export default definePlugin({
  name: 'commerce-namespaces',
  options,
  // The catalog, and the plain WebSocket endpoint's messages when it is served (for the documents and client types).
  events: (opts) => opts.websocket.enabled
    ? { ...catalog(opts), websocket: { path: opts.websocket.path, description: 'Plain WebSocket: `?token=<jwt>&namespaces=orders,payments`; JSON text messages, times in epoch ms.', client: clientMessages, server: { ...serverMessages, ...eventMessages } } }
    : catalog(opts),
  setup (app, opts) {
    const { realtime } = app
    const problems = [...matrixProblems(opts), ...pathProblems(opts.websocket, realtime.socketioPath)]
    if (problems.length > 0) throw new CommerceConfigInvalid(problems.join('; '))

    const namespaces = registerSocketHandlers(app, opts)
    const validators = payloadValidators(realtime)
    let toWebSockets: ((d: Delivery) => void) | undefined
    if (opts.websocket.enabled) {
      const endpoint = serveWebSocket(app, opts)
      // Every node's WebSocket clients, through the Socket.IO adapter; what another node sends is checked.
      const deliveries = realtime.channel('deliver', Delivery)
      deliveries.on((d) => { endpoint.deliver(d) })
      toWebSockets = (d) => { deliveries.emit(d) }
      bridgeToWebSockets(realtime, opts, namespaces, validators, toWebSockets)
    }

    const commerce = createPublisher(opts, namespaces, validators, toWebSockets)
    registerRoutes(app, commerce.publish)
    realtime.provide(commerce)
  }
})
