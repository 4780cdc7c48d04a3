// The handshake strings most connections repeat are shared (src/core/patches/shared-strings.ts): the pool is bounded
// against junk values, and every value a plugin reads from a handshake is the one the client sent.
import t from 'tap'
import { io } from 'socket.io-client'
import { startServer, waitFor, type ClientSocket } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { Server } from 'socket.io'
import { SecondClock, StringPool } from '../../src/core/patches/shared-strings.js'

t.test('the pool answers equal strings and stays bounded', async (t) => {
  const pool = new StringPool()
  const hostile = ['__proto__', 'constructor', '\uD800', '', 'x'.repeat(1024)]
  for (const value of hostile) t.equal(pool.share(value), value, `pooled: ${value.slice(0, 12)}`)
  t.equal(pool.size, hostile.length)
  const huge = 'y'.repeat(1 << 20)
  t.equal(pool.share(huge), huge, 'a 1 MB value comes back equal')
  t.equal(pool.size, hostile.length, 'and is not pooled (longer than 1,024 characters)')
  for (let i = 0; i < 2000; i++) pool.share(`junk-${i}`)
  t.equal(pool.size, 1024, 'at most 1,024 values')
  t.equal(pool.share('after-full'), 'after-full', 'a full pool returns new values as they came')
  t.equal(pool.size, 1024)
  t.equal(pool.share('__proto__'), '__proto__', 'and still answers for what it holds')
})

/** The fields of Socket.IO 4.8's handshake, in the order its `buildHandshake` writes them. */
const HANDSHAKE_KEYS = ['headers', 'time', 'address', 'xdomain', 'secure', 'issued', 'url', 'query', 'auth']

t.test('the clock writes the time as Date does', async (t) => {
  const clock = new SecondClock()
  const now = Date.now()
  const instants = [0, 999, 1000, -1, -1001, now, now + 1, Math.floor(now / 1000) * 1000 - 1, Math.floor(now / 1000) * 1000, 8.64e15, 1e12 + 0.5]
  for (let i = 0; i < 200; i++) instants.push(Math.floor(Math.random() * 4e12) - 1e12)
  const wrong = instants.filter((ms) => clock.text(ms) !== String(new Date(ms)))
  t.same(wrong, [], 'the same text as String(new Date(ms)) at every instant')
  const second = Math.floor(now / 1000) * 1000
  const texts = new Set([0, 1, 500, 998, 999].map((ms) => clock.text(second + ms)))
  t.same([...texts], [String(new Date(second))], 'one text for every millisecond of a second')
  t.equal(clock.text(second + 1000), String(new Date(second + 1000)), 'and the next second\'s once it starts')
})

t.test('handshakes read what each client sent', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const agents = ['agent-one/1.0', 'agent-two/2.0', 'agent-one/1.0']
  const sockets: ClientSocket[] = []
  t.teardown(() => { for (const s of sockets) s.disconnect() })
  for (const [i, agent] of agents.entries()) {
    const socket = io(server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { 'user-agent': agent, 'accept-language': `lang-${i % 2}` },
      query: { client: String(i) },
      auth: { token: server.token({ sub: `u${i}`, tenantId: 'acme' }) }
    })
    sockets.push(socket)
    await waitFor(socket, 'connect')
  }
  const byUser = new Map([...core.io.of('/').sockets.values()].map((s) => [s.data.user.userId, s]))
  for (const [i, agent] of agents.entries()) {
    const handshake = byUser.get(`u${i}`)!.handshake
    t.equal(handshake.headers['user-agent'], agent, `client ${i}: its user agent`)
    t.equal(handshake.headers['accept-language'], `lang-${i % 2}`, `client ${i}: its language`)
    t.equal(handshake.headers.host, `127.0.0.1:${server.port}`, `client ${i}: the host`)
    t.equal(handshake.query.client, String(i), `client ${i}: its query`)
    t.match(handshake.url, new RegExp(`[?&]client=${i}(&|$)`), `client ${i}: its URL`)
    t.equal(handshake.time, String(new Date(handshake.issued)), `client ${i}: its time, the second of issued`)
    t.same(Object.keys(handshake), HANDSHAKE_KEYS, `client ${i}: Socket.IO's handshake fields, in its order`)
    t.equal(byUser.get(`u${i}`)!.request.url, handshake.url, `client ${i}: the request's URL is the handshake's`)
  }
  t.same(await server.emitWithAck(sockets[2]!, 'probe:whoami', {}), { userId: 'u2', tenantId: 'acme', roles: [] }, 'the connections work')
})

t.test('another Socket.IO server in the process builds its handshakes as before', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const other = new Server(0, { transports: ['websocket'] })
  t.teardown(() => { other.close() })
  const port = (other.httpServer.address() as { port: number }).port
  const connected = new Promise<{ time: string, issued: number, keys: string[] }>((resolve) => {
    other.on('connection', (socket) => { resolve({ time: socket.handshake.time, issued: socket.handshake.issued, keys: Object.keys(socket.handshake) }) })
  })
  const client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false })
  t.teardown(() => { client.disconnect() })
  const handshake = await connected
  t.same(handshake.keys, HANDSHAKE_KEYS, 'the same fields')
  t.ok(Math.abs(Date.parse(handshake.time) - handshake.issued) <= 1000, 'its own time, within the second of issued')
})
