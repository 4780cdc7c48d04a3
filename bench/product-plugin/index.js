// A minimal stand-in for the tenant-broadcast plugin (the default endpoint), written against the public
// API only: it publishes without schema validation or idempotency, so --endpoint=bench isolates the
// core's publish path from the plugin's own work. Same contract:
//   POST /api/bench/events  { type, payload, tenantId? }  (x-api-key)
//   -> the whole tenant receives emit(type, payload, { eventId, timestamp })
//   <- { eventId, recipients }
// Plain JS (not TypeScript) so that it runs against dist/ without a build step; `realtime-server`
// resolves to dist/src/index.js through the package's self-reference.
import { definePlugin, Type } from 'realtime-server'

export const options = Type.Object({}, { additionalProperties: false })

const Body = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 200 }),
  payload: Type.Unknown(),
  tenantId: Type.Optional(Type.String({ minLength: 1 }))
}, { additionalProperties: false })

export default definePlugin({
  name: 'bench',
  options,
  setup (app) {
    const { realtime } = app
    const ns = realtime.namespace('/')
    realtime.trigger('/events', { body: Body }, async (request) => {
      const tenantId = realtime.tenantOf(request, request.body.tenantId)
      return await ns.publish({ tenantId, event: request.body.type, payload: request.body.payload, count: true })
    })
  }
})
