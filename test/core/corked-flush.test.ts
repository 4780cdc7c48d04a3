// What Engine.IO flushes at once to a websocket connection leaves the server in one write
// (src/core/patches/corked-flush.ts): a burst of acknowledged events is answered in a few system calls instead of
// one per answer, with every answer, in order; a lone packet and a failing send are written as before.
import t from 'tap'
import { once } from 'node:events'
import net from 'node:net'
import { eventually, startServer } from 'realtime-server/testing'
import { corkedFlush, type FlushingSocket } from '../../src/core/patches/corked-flush.js'
import { clientFrame, rawSocket, recordUpgradeWrites } from '../fixtures/raw-ws.js'

t.test('a burst of acknowledged events: every answer, in order, in a few writes', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const writes = recordUpgradeWrites(server.app.server)
  const { socket: sock, frames } = rawSocket(t, server.port)
  const deadline = { timeoutMs: 20000, intervalMs: 10 }
  await eventually('the open packet', () => frames().some((f) => f.startsWith('0{')), deadline)
  sock.write(clientFrame(`40${JSON.stringify({ token: server.token({ sub: 'u1', tenantId: 'acme' }) })}`))
  await eventually('the CONNECT answer', () => frames().some((f) => f.startsWith('40{')), deadline)
  const before = writes.length
  const N = 150 // within the default per-socket burst (twice 100 per second)
  // One TCP write: the server reads them at once, answers the first, and queues the others behind it.
  sock.write(Buffer.concat(Array.from({ length: N }, (_, i) => clientFrame(`42${i + 1}["probe:whoami",{}]`))))
  await eventually(`${N} answers`, () => frames().filter((f) => f.startsWith('43')).length >= N, deadline)
  const answers = frames().filter((f) => f.startsWith('43'))
  t.same(answers, Array.from({ length: N }, (_, i) => `43${i + 1}[{"userId":"u1","tenantId":"acme","roles":[]}]`), 'every answer, in order')
  const used = writes.length - before
  t.ok(used <= 10, `${N} answers in ${used} writes (one per answer without the cork)`)
})

t.test('corkedFlush: two packets or more on a websocket of an accepted server corked once; the rest, and a flush that throws, as before', async (t) => {
  const srv = net.createServer((s) => { s.resume() })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => { srv.close() })
  const sock = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1')
  t.teardown(() => { sock.destroy() })
  await once(sock, 'connect')
  const seen: number[] = []
  const ours = { core: true }
  const flush = corkedFlush(function (this: FlushingSocket) {
    seen.push(sock.writableCorked)
    if (this.writeBuffer.includes('boom')) throw new Error('boom')
  }, (server) => server === ours)
  const conn = (writeBuffer: unknown[], server: unknown = ours, transport: FlushingSocket['transport'] = { socket: { _socket: sock } }): FlushingSocket => ({ writeBuffer, server, transport })
  flush.call(conn(['a']))
  flush.call(conn(['a', 'b']))
  flush.call(conn(['a', 'b'], { other: true }))
  flush.call(conn(['a', 'b'], ours, {})) // polling: no ws socket
  t.throws(() => { flush.call(conn(['a', 'boom'])) }, /boom/, 'the error reaches the caller')
  t.same(seen, [0, 1, 0, 0, 1], 'corked only around two packets or more, on a websocket, of an accepted server')
  t.equal(sock.writableCorked, 0, 'uncorked after the throw')
})
