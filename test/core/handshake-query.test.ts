// Engine.IO's query of a handshake read without a URL when it is plain (src/core/patches/handshake-query.ts): the
// same object as `URL` gives for every request target, hostile ones included, and what each client sent.
import t from 'tap'
import { io } from 'socket.io-client'
import { eventually, startServer, waitFor, type ClientSocket } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { plainQuery } from '../../src/core/patches/handshake-query.js'
import { clientFrame, rawSocket } from '../fixtures/raw-ws.js'

/** What Engine.IO's own `prepare` makes of a request target. */
const reference = (url: string): Record<string, string> => Object.fromEntries(new URL(url, 'https://socket.io').searchParams.entries())
/** Own properties in order, with their values: what `t.same` does not compare (order, own `__proto__`). */
const exactly = (o: object): string => JSON.stringify(Object.getOwnPropertyNames(o).map((k) => [k, (o as Record<string, unknown>)[k]]))

t.test('a plain query reads as URL reads it; anything else is left to URL', async (t) => {
  const plain = [
    '/socket.io/?EIO=4&transport=websocket',
    '/socket.io/?EIO=4&transport=websocket&EIO=3',
    '/socket.io/?a&b=&=c&&d==e&',
    '/socket.io/?',
    '/socket.io/?constructor=1&toString=2&hasOwnProperty=3',
    '/socket.io/?t=abc.DEF-123_~x'
  ]
  for (const url of plain) {
    const fast = plainQuery(url)
    t.not(fast, undefined, `read directly: ${url}`)
    t.equal(exactly(fast!), exactly(reference(url)), `as URL reads it: ${url}`)
  }
  const left = [
    '/socket.io/?a=%41', '/socket.io/?a=b+c', '/socket.io/?a=1#b=2', '/socket.io/#x?EIO=4', '/socket.io/?__proto__=x',
    '/socket.io/?a=1&__proto__', '/socket.io/?a=\u00e9', '/socket.io/?a=\uD800', '/socket.io/?a= b', '/socket.io/?a=\tb',
    '/socket.io/?a=b?c', '/socket.io/?a=' + 'x'.repeat(1 << 20) + '%', '/socket.io/'
  ]
  for (const url of left) t.equal(plainQuery(url), undefined, `left to URL: ${url.slice(0, 40)}`)
})

t.test('random request targets: the direct reading never differs from URL', async (t) => {
  const parts = ['a', 'B', '0', '_', '.', '~', '-', '=', '&', '&', '=', '%', '%41', '%zz', '+', '#', '?', '/', ' ', '__proto__', 'constructor', 'EIO', '\u00e9', '\uD800', 'x'.repeat(300)]
  let seed = 20
  const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  const mismatches: string[] = []
  let direct = 0
  for (let i = 0; i < 20000; i++) {
    let url = '/socket.io/?'
    for (let n = random(12); n > 0; n--) url += parts[random(parts.length)]
    const fast = plainQuery(url)
    if (fast === undefined) continue
    direct++
    if (exactly(fast) !== exactly(reference(url))) mismatches.push(url)
  }
  t.same(mismatches.slice(0, 5), [], 'no request target reads differently')
  t.ok(direct > 1000, `many were read directly (${direct} of 20,000)`)
})

t.test('each client finds its own query in its handshake', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const queries: Array<Record<string, string>> = [
    { client: '0', plain: 'yes' },
    { client: '1', spaced: 'a b+c', pct: '100%', accent: '\u00e9t\u00e9', constructor: 'x' }
  ]
  const sockets: ClientSocket[] = []
  t.teardown(() => { for (const s of sockets) s.disconnect() })
  for (const [i, query] of queries.entries()) {
    const socket = io(server.url, { transports: ['websocket'], reconnection: false, query, auth: { token: server.token({ sub: `u${i}`, tenantId: 'acme' }) } })
    sockets.push(socket)
    await waitFor(socket, 'connect')
  }
  // A hostile query, in raw bytes (socket.io-client would not send an own `__proto__` key).
  const raw = rawSocket(t, server.port, 'EIO=4&transport=websocket&__proto__=polluted&client=2&toString=3')
  await eventually('the open packet', () => raw.frames().some((f) => f.startsWith('0{')), { timeoutMs: 20000 })
  raw.socket.write(clientFrame(`40${JSON.stringify({ token: server.token({ sub: 'u2', tenantId: 'acme' }) })}`))
  await eventually('the CONNECT answer', () => raw.frames().some((f) => f.startsWith('40{')), { timeoutMs: 20000 })

  const byUser = new Map([...core.io.of('/').sockets.values()].map((s) => [s.data.user.userId, s]))
  for (const [i, query] of queries.entries()) {
    const got = byUser.get(`u${i}`)!.handshake.query as Record<string, unknown>
    for (const [name, value] of Object.entries(query)) t.equal(got[name], value, `client ${i}: ${name}`)
    t.equal(got.EIO, '4', `client ${i}: Engine.IO's own parameters`)
    t.equal(Object.getPrototypeOf(got), Object.prototype, `client ${i}: a plain object`)
  }
  const hostile = byUser.get('u2')!.handshake.query as Record<string, unknown>
  t.equal(exactly(hostile), exactly({ EIO: '4', transport: 'websocket', ...Object.fromEntries([['__proto__', 'polluted']]), client: '2', toString: '3' }), 'the hostile query as URL reads it: an own __proto__ key, in order')
  t.equal(Object.getPrototypeOf(hostile), Object.prototype, 'its prototype untouched')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'and nothing reached Object.prototype')
  t.same(await server.emitWithAck(sockets[1]!, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'the clients are served')
})
