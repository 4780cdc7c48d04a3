// Socket.IO's per-connection Maps held as one-entry maps (src/core/patches/small-maps.ts): the same answers as a Map
// for any sequence of calls, and a connection that multiplexes namespaces, answers acknowledgements and closes as before.
import t from 'tap'
import { Manager } from 'socket.io-client'
import { eventually, startServer, waitFor } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { OneEntryMap } from '../../src/core/patches/small-maps.js'

const snapshot = (m: Map<unknown, unknown> | OneEntryMap<unknown, unknown>): unknown => ({
  size: m.size,
  entries: [...m.entries()],
  keys: [...m.keys()],
  values: [...m.values()],
  iterated: [...m],
  each: (() => { const seen: unknown[] = []; m.forEach((v, k, owner) => { seen.push([k, v, owner === m]) }); return seen })()
})

t.test('a OneEntryMap answers as a Map for random sequences of calls', async (t) => {
  const obj = {}
  const keys: unknown[] = [0, -0, NaN, '0', '__proto__', 'constructor', '\uD800', obj, {}, undefined, null, 'x'.repeat(1 << 20)]
  let seed = 7
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let run = 0; run < 200; run++) {
    const map = new Map<unknown, unknown>()
    const small = new OneEntryMap<unknown, unknown>()
    for (let step = 0; step < 12; step++) {
      const key = keys[next(keys.length)]
      const op = next(5)
      if (op === 0 || op === 1) t.equal(small.set(key, step), small, 'set returns the map')
      if (op === 0 || op === 1) map.set(key, step)
      if (op === 2) t.equal(small.delete(key), map.delete(key), `delete (run ${run}, step ${step})`)
      if (op === 3) t.equal(small.get(key), map.get(key), `get (run ${run}, step ${step})`)
      if (op === 4) t.equal(small.has(key), map.has(key), `has (run ${run}, step ${step})`)
      if (step === 11 && next(4) === 0) { small.clear(); map.clear() }
    }
    t.strictSame(snapshot(small), snapshot(map), `the same entries, in the same order (run ${run})`)
  }
  const copied = new OneEntryMap([[1, 'a'], [2, 'b'], [1, 'c']])
  t.strictSame([...copied], [[1, 'c'], [2, 'b']], 'built from entries as a Map is')
  t.equal(Object.prototype.toString.call(new OneEntryMap()), '[object OneEntryMap]')
  const self = new OneEntryMap([['k', 1]])
  const context = { seen: undefined as unknown }
  self.forEach(function (this: typeof context) { this.seen = this }, context)
  t.equal(context.seen, context, 'forEach calls with thisArg')
})

t.test('a connection holds one-entry maps and keeps multiplexing, acknowledging and closing', async (t) => {
  const server = await startServer({
    config: {
      plugins: {
        probe: { from: './test/fixtures/plugins/probe' },
        'chat-messages': { options: { namespace: '/two' } }
      }
    }
  })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const manager = new Manager(server.url, { path: '/socket.io', reconnection: false, transports: ['websocket'] } as any)
  const first = manager.socket('/', { auth: { token } })
  t.teardown(() => { manager.engine?.close() })
  await waitFor(first, 'connect')

  const io = (server.app as unknown as Record<symbol, Core>)[kCore]!.io
  const serverFirst = [...io.of('/').sockets.values()][0]! as any
  t.type(serverFirst.client.sockets, OneEntryMap, 'the client\'s sockets by id')
  t.type(serverFirst.client.nsps, OneEntryMap, 'the client\'s sockets by namespace')
  t.type(serverFirst.acks, OneEntryMap, 'the socket\'s acknowledgements')

  const second = manager.socket('/two', { auth: { token } })
  await waitFor(second, 'connect')
  const serverSecond = [...io.of('/two').sockets.values()][0]! as any
  t.equal(serverSecond.client, serverFirst.client, 'one connection, two namespaces')
  t.equal(serverFirst.client.sockets.size, 2)
  t.same([...serverFirst.client.nsps.keys()].sort(), ['/', '/two'])
  t.same(await server.emitWithAck(first, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'the first namespace answers beside the second')

  // Server-to-client acknowledgements: one socket, two at once, and a broadcast with acknowledgements.
  first.on('ask', (n: number, ack: (answer: number) => void) => { ack(n * 2) })
  t.equal(await serverFirst.timeout(10_000).emitWithAck('ask', 1), 2, 'one acknowledgement')
  t.same(await Promise.all([serverFirst.timeout(10_000).emitWithAck('ask', 2), serverFirst.timeout(10_000).emitWithAck('ask', 3)]), [4, 6], 'two at once')
  t.same(await io.of('/').timeout(10_000).emitWithAck('ask', 5), [10], 'a broadcast with acknowledgements')
  t.equal(serverFirst.acks.size, 0, 'no acknowledgement left waiting')

  const gone = waitFor(second, 'disconnect')
  serverSecond.disconnect()
  await gone
  await eventually('the client forgot the second namespace', () => serverFirst.client.sockets.size === 1 && !serverFirst.client.nsps.has('/two'))
  t.same(await server.emitWithAck(first, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'the first namespace still answers')
  const closed = waitFor(first, 'disconnect')
  first.disconnect()
  await closed
  await eventually('the connection closed', () => io.engine.clientsCount === 0)
  t.equal(serverFirst.client.sockets.size, 0, 'the client holds no socket')
})
