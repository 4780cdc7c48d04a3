/**
 * A complete plugin that uses only the public API (`realtime-server`), laid out as every built-in plugin is.
 * Copy this folder to start a plugin.
 *
 * - socket: `hello` { name } -> ack { text, count }, and `hello:greeted` { name, text, count } to the rest of the tenant;
 * - REST:   POST /api/hello/announce { tenantId?, text } -> `hello:announcement` { text } to the tenant;
 * - store:  counts greetings per tenant, shared across nodes when Redis is configured.
 */
import { definePlugin } from 'realtime-server'
import { events } from './events.js'
import { registerRoutes } from './routes.js'
import { options } from './schema.js'
import { registerSocketHandlers } from './socket.js'
import { GreetingCounter } from './store.js'

export { options }

export default definePlugin({
  name: 'hello',
  options,
  events,
  setup (app, opts) {
    const ns = app.realtime.namespace(opts.namespace)
    registerSocketHandlers(ns, opts, new GreetingCounter(app.realtime.store))
    registerRoutes(app, ns)
  }
})
