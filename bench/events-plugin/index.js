// A plugin for the event benchmarks (event-rate.js, flood.js), against the public API only: `echo` does
// nothing (the cost measured is the core's: limits, validation, dispatch), `sync` and `ping` answer with an
// event (`synced`, `pong`) so that the bench's raw client, which counts events and not acks, sees them.
import { definePlugin, Type } from 'realtime-server'

export const options = Type.Object({}, { additionalProperties: false })

const Echo = Type.Unknown()
const Ping = Type.Unknown()

export default definePlugin({
  name: 'bench-events',
  options,
  events: { client: { echo: Echo, sync: Ping, ping: Ping }, server: { synced: Ping, pong: Ping } },
  setup (app) {
    const ns = app.realtime.namespace('/')
    ns.handle('echo', Echo, () => undefined)
    ns.handle('sync', Ping, (ctx, data) => { ctx.emit('synced', data) })
    ns.handle('ping', Ping, (ctx, data) => { ctx.emit('pong', data) })
  }
})
