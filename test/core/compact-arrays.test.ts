// Two per-connection arrays are copied to their size (src/core/patches/compact-arrays.ts): the connection still decodes
// packets, upgrades from polling, and removes its transport's listeners when it closes.
import t from 'tap'
import { Manager } from 'socket.io-client'
import { eventually, startServer, waitFor } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'

t.test('a connection upgraded from polling keeps working and cleans up after the arrays are compacted', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const manager = new Manager(server.url, { path: '/socket.io', reconnection: false, auth: { token } } as any)
  const socket = manager.socket('/', { auth: { token } })
  t.teardown(() => { socket.disconnect(); manager.engine?.close() })
  await waitFor(socket, 'connect')
  await eventually('the connection upgraded to websocket', () => manager.engine.transport.name === 'websocket')

  const io = (server.app as unknown as Record<symbol, Core>)[kCore]!.io
  const [conn] = Object.values((io.engine as any).clients) as any[]
  const [serverSocket] = [...io.of('/').sockets.values()]
  await eventually('the server side upgraded too', () => conn.transport.name === 'websocket' && conn.upgrading === false)
  t.equal(conn.cleanupFn.length, 1, 'one clean-up function: the websocket transport\'s (the polling one ran at the upgrade)')
  t.equal((serverSocket!.client as any).decoder._callbacks.$decoded.length, 1, 'the decoder keeps its one listener')
  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'packets are decoded')

  const transport = conn.transport
  const gone = waitFor(socket, 'disconnect')
  conn.close()
  await gone
  t.equal(transport.listenerCount('packet'), 0, 'closing removed the transport\'s listeners')
})
