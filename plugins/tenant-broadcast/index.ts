/**
 * tenant-broadcast: tenant-scoped events pushed by a backend to every socket of a tenant, to users,
 * roles or subscribed rooms (the CRM tenant events and WhatsApp CRM rooms protocols). See README.md for options, events, REST triggers and errors.
 */
import { definePlugin } from 'realtime-server'
import { OptionsInvalid } from './errors.js'
import { EventTypes } from './event-types.js'
import { events } from './events.js'
import { IdempotencyKeys } from './idempotency.js'
import { createPublisher } from './publisher.js'
import { registerRoutes } from './routes.js'
import { options } from './schema.js'
import { registerSocketHandlers } from './socket.js'

export { options, events }
export type { TenantBroadcastOptions } from './schema.js'

export default definePlugin({
  name: 'tenant-broadcast',
  options,
  events,
  setup (app, opts) {
    const { realtime } = app
    const kinds = opts.rooms.map((r) => r.kind)
    const twice = kinds.find((k, i) => kinds.indexOf(k) !== i)
    if (twice !== undefined) throw new OptionsInvalid(`rooms: the kind "${twice}" is declared twice`)
    // test-event lets any authenticated socket publish into its tenant: a production server refuses to start with
    // it rather than run with it silently (the config loader does the same for the development JWT secret).
    if (opts.developmentMode && realtime.production) {
      throw new OptionsInvalid('plugins.tenant-broadcast.options.developmentMode: must be false when NODE_ENV=production (it accepts test-event from any socket)')
    }

    const ns = realtime.namespace(opts.namespace)
    const types = new EventTypes(opts, realtime.compile)
    const publish = createPublisher(ns)
    registerSocketHandlers(app, { ns, options: opts, types, publish })
    registerRoutes(app, { ns, options: opts, types, publish, idempotency: new IdempotencyKeys(realtime.store, opts.idempotency) })
    realtime.log.debug({ namespace: ns.name, events: types.size, rooms: kinds }, 'tenant-broadcast ready')
  }
})
