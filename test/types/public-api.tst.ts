// Type-level tests of the public API a plugin author programs against: each expect(...).type assertion is checked by
// tstyche at compile time (run by test/types.test.ts), so a change that breaks a plugin author's types fails the suite.
import { expect, test } from 'tstyche'
import {
  definePlugin, Type, type Identity, type PluginApp, type PluginNamespace, type PublishResult,
  type RealtimeApi, type RealtimePlugin, type SocketContext, type Static
} from 'realtime-server'

const Options = Type.Object({
  greeting: Type.String({ default: 'hi' }),
  limit: Type.Integer({ default: 3 })
})

test('definePlugin infers the options from the schema', () => {
  const plugin = definePlugin({
    name: 'typed',
    options: Options,
    setup (app, opts) {
      expect(opts).type.toBe<{ greeting: string, limit: number }>()
      expect(app).type.toBe<PluginApp>()
      expect(app.realtime).type.toBe<RealtimeApi>()
    }
  })
  expect(plugin).type.toBeAssignableTo<RealtimePlugin<typeof Options>>()
  expect(plugin.definition.options).type.toBe<typeof Options>()
})

test('definePlugin refuses a definition without setup or name', () => {
  expect(definePlugin).type.not.toBeCallableWith({ name: 'x', options: Options })
  expect(definePlugin).type.not.toBeCallableWith({ options: Options, setup () {} })
})

test('setup may be async', () => {
  expect(definePlugin).type.toBeCallableWith({ name: 'x', options: Options, async setup () {} })
})

declare const ns: PluginNamespace
declare const realtime: RealtimeApi

test('a handler receives the payload type of its schema and a socket context', () => {
  const Join = Type.Object({ roomId: Type.String(), silent: Type.Optional(Type.Boolean()) })
  ns.handle('room:join', Join, (ctx, data) => {
    expect(ctx).type.toBe<SocketContext>()
    expect(ctx.user).type.toBe<Identity>()
    expect(ctx.socket.data.user).type.toBe<Identity>()
    expect(data).type.toBe<Static<typeof Join>>()
    expect(data.roomId).type.toBe<string>()
    expect(data.silent).type.toBe<boolean | undefined>()
    expect(data).type.not.toHaveProperty('other')
  })
})

test('namespace operations chain and publish resolves to a PublishResult', () => {
  expect(ns.onConnection(() => {})).type.toBe<PluginNamespace>()
  expect(ns.publish({ tenantId: 't', event: 'e', payload: {} })).type.toBe<Promise<PublishResult>>()
  expect(ns.publish).type.not.toBeCallableWith({ event: 'e', payload: {} })
  expect(realtime.publish).type.not.toBeCallableWith({ tenantId: 't', payload: {} })
})

test('a trigger receives its body and querystring types', () => {
  const Body = Type.Object({ text: Type.String(), tenantId: Type.Optional(Type.String()) })
  const Query = Type.Object({ dryRun: Type.Optional(Type.Boolean()) })
  realtime.trigger('/say', { body: Body, querystring: Query }, async (request) => {
    expect(request.body).type.toBe<Static<typeof Body>>()
    expect(request.query).type.toBe<Static<typeof Query>>()
    expect(request.body).type.not.toHaveProperty('nope')
    return null
  })
  expect(realtime.trigger).type.not.toBeCallableWith('/x', { querystring: Query }, async () => null)
})

test('the identity is read-only', () => {
  expect<Pick<Identity, 'userId' | 'tenantId'>>().type.toBe<{ readonly userId: string, readonly tenantId: string }>()
  expect<Identity['roles']>().type.toBe<readonly string[]>()
})
