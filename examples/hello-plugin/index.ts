/**
 * A complete plugin that uses only the public API (`realtime-server`). Copy this folder to start a plugin.
 *
 * - socket: `hello` { name } -> ack { text }, and `hello:greeted` { name, text } published to the sender's tenant;
 * - REST:   POST /api/hello/announce { tenantId?, text } -> `hello:announcement` { text } to the tenant;
 * - store:  counts greetings per tenant, shared across nodes when Redis is configured.
 */
import { definePlugin, Type, type Static } from 'realtime-server'

export const options = Type.Object({
  greeting: Type.String({ default: 'Hello', minLength: 1, description: 'Word put before the name.' }),
  namespace: Type.String({ default: '/', pattern: '^/', description: 'Namespace of the `hello` event.' })
}, { additionalProperties: false })

export type HelloOptions = Static<typeof options>

const HelloPayload = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
const Greeted = Type.Object({ name: Type.String(), text: Type.String(), count: Type.Integer() })
const Announce = Type.Object({ tenantId: Type.Optional(Type.String()), text: Type.String({ minLength: 1 }) }, { additionalProperties: false })
const Announcement = Type.Object({ text: Type.String() })

export const events = {
  client: { hello: HelloPayload },
  server: { 'hello:greeted': Greeted, 'hello:announcement': Announcement }
}

export default definePlugin({
  name: 'hello',
  options,
  events,
  setup (app, opts) {
    const { realtime } = app
    const ns = realtime.namespace(opts.namespace)

    ns.handle('hello', HelloPayload, async (ctx, { name }) => {
      const text = `${opts.greeting}, ${name}!`
      const count = await realtime.store.increment(`greetings:${ctx.user.tenantId}`)
      await ctx.publish({ event: 'hello:greeted', payload: { name, text, count }, except: { socketId: ctx.id } })
      return { text, count }
    })

    realtime.trigger('/announce', { body: Announce }, async (request) => {
      const tenantId = realtime.tenantOf(request, request.body.tenantId)
      return await ns.publish({ tenantId, event: 'hello:announcement', payload: { text: request.body.text }, count: true })
    })
  }
})
