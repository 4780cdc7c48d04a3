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
      expect(app).type.toBeAssignableTo<PluginApp>()
      expect(app.realtime.plugin).type.toBe<'typed'>()
    }
  })
  expect(plugin).type.toBeAssignableTo<RealtimePlugin<typeof Options>>()
  expect(plugin).type.toBeAssignableTo<RealtimePlugin>()
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

test('a trigger with tenant: true has request.tenantId; GET takes no body', () => {
  realtime.trigger('/a', { body: Type.Object({ n: Type.Integer() }), tenant: true }, async (request) => {
    expect(request.tenantId).type.toBe<string>()
    expect(request.body.n).type.toBe<number>()
    return null
  })
  realtime.trigger('/b', { body: Type.Object({}) }, async (request) => {
    expect(request.tenantId).type.toBe<undefined>()
    return null
  })
  realtime.trigger('/c', { method: 'GET', querystring: Type.Object({ q: Type.String() }), tenant: true }, async (request) => {
    expect(request.query.q).type.toBe<string>()
    expect(request.tenantId).type.toBe<string>()
    return null
  })
  expect(realtime.trigger).type.not.toBeCallableWith('/d', { method: 'GET', body: Type.Object({}) }, async () => null)
})

declare module 'realtime-server' {
  interface PluginServices { greeter: { greet: (who: string) => string } }
}

test('services are typed by PluginServices: provide by the plugin of that name, use by its dependents', () => {
  definePlugin({
    name: 'greeter',
    options: Options,
    setup (app) {
      expect(app.realtime.provide).type.toBeCallableWith({ greet: (who: string) => who })
      expect(app.realtime.provide).type.not.toBeCallableWith({ greet: 1 })
    }
  })
  definePlugin({
    name: 'other',
    options: Options,
    setup (app) {
      expect(app.realtime.provide).type.not.toBeCallableWith({ greet: (who: string) => who })
      expect(app.realtime.use('greeter').greet('x')).type.toBe<string>()
      expect(app.realtime.use).type.not.toBeCallableWith('unknown-plugin')
    }
  })
})

test('a channel is typed by its schema', () => {
  const channel = realtime.channel('c', Type.Object({ id: Type.String() }))
  expect(channel.emit).type.toBeCallableWith({ id: 'x' })
  expect(channel.emit).type.not.toBeCallableWith({ id: 1 })
  channel.on((data) => { expect(data).type.toBe<{ id: string }>() })
})

test('the events catalog takes schemas or long entries, or a function of the options', () => {
  expect(definePlugin).type.toBeCallableWith({
    name: 'x',
    options: Options,
    events: (o: { greeting: string }) => ({ client: { [o.greeting]: Type.String() } }),
    setup () {}
  })
  expect(definePlugin).type.toBeCallableWith({
    name: 'x',
    options: Options,
    events: { client: { a: { payload: Type.String(), ack: Type.Object({}), errors: ['RT_ERR_FORBIDDEN'] } }, server: { b: Type.Null() } },
    setup () {}
  })
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
