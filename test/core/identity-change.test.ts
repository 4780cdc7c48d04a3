// Identity-change hooks: after an accepted auth:refresh, the hooks of each renewed socket's namespace run with the identity before.
import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { Manager } from 'socket.io-client'
import { definePlugin, Type, type Identity, type RealtimePlugin, type SocketContext } from 'realtime-server'
import { startServer, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'

const claims = { sub: 'u1', tenantId: 'acme', role: 'admin' }

interface Seen { namespace: string, socketId: string, previousRoles: readonly string[], currentRoles: readonly string[], previousExp: number | undefined }

/**
 * Registers identity hooks on `/` and `/other` through the core's registry (the plugin API's
 * `ns.onIdentityChange` wraps the same call): a recording one on each, and on `/other` also one that throws
 * and one whose promise is held until `release()`.
 */
function watcher (): { plugin: RealtimePlugin<any>, seen: Seen[], release: () => void, settled: () => boolean } {
  const seen: Seen[] = []
  let release = (): void => {}
  let settled = false
  const record = (ctx: SocketContext, previous: Identity): void => {
    seen.push({ namespace: ctx.namespace, socketId: ctx.id, previousRoles: previous.roles, currentRoles: ctx.user.roles, previousExp: previous.exp })
  }
  const plugin = definePlugin({
    name: 'identity-watcher',
    options: Type.Object({}),
    setup (app) {
      app.realtime.namespace('/')
      app.realtime.namespace('/other')
      const { registry } = (app as unknown as Record<symbol, Core>)[kCore]!
      registry.onIdentityChange('identity-watcher', '/', record)
      registry.onIdentityChange('identity-watcher', '/other', record)
      registry.onIdentityChange('identity-watcher', '/other', () => { throw new Error('hook failure') })
      registry.onIdentityChange('identity-watcher', '/other', async () => {
        await new Promise<void>((resolve) => { release = resolve })
        settled = true
      })
    }
  })
  return { plugin, seen, release: () => { release() }, settled: () => settled }
}

async function sharedConnection (t: Test, server: TestServer, token: string, namespaces: string[]): Promise<Record<string, ClientSocket>> {
  const manager = new Manager(server.url, { path: server.config.socketio.path, transports: ['websocket'], reconnection: false, autoConnect: false })
  const sockets: Record<string, ClientSocket> = {}
  for (const nsp of namespaces) sockets[nsp] = manager.socket(nsp, { auth: { token } })
  t.teardown(() => { for (const s of Object.values(sockets)) s.disconnect() })
  for (const socket of Object.values(sockets)) {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
      socket.connect()
    })
  }
  return sockets
}

t.test('an accepted refresh runs the identity hooks of the refreshing socket and of its sibling namespace sockets', async (t) => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  const { plugin, seen, release, settled } = watcher()
  const server = await startServer({ config: { server: { logLevel: 'error' } }, plugins: [{ plugin }], logStream })
  t.teardown(() => server.close())
  const first = server.token(claims, { expiresIn: 600 })
  const sockets = await sharedConnection(t, server, first, ['/', '/other'])
  // Another connection of the same user: not a sibling, its identity stays.
  const elsewhere = await server.connect('/other', { token: first })

  const refused = await server.emitWithAck(sockets['/']!, 'auth:refresh', { token: server.token({ ...claims, sub: 'u2' }) })
  t.equal(refused.error.code, 'RT_ERR_AUTH_REFRESH')
  const invalid = await server.emitWithAck(sockets['/']!, 'auth:refresh', {})
  t.equal(invalid.error.code, 'RT_ERR_VALIDATION')
  t.same(seen, [], 'a refused refresh runs no hook')

  const previousExp = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).exp as number
  const res = await server.emitWithAck(sockets['/']!, 'auth:refresh', { token: server.token({ ...claims, role: 'manager' }, { expiresIn: 3600 }) })
  t.equal(res.ok, true, 'the refresh is answered although a hook threw and another is pending')
  t.same(seen.map((s) => s.namespace).sort(), ['/', '/other'], 'once for the refreshing socket and once for its sibling, not for the other connection')
  for (const s of seen) {
    t.same([s.previousRoles, s.currentRoles, s.previousExp], [['admin'], ['manager'], previousExp], `${s.namespace}: the identity before, and the context already on the new one`)
  }
  t.same(seen.map((s) => s.socketId).sort(), [sockets['/']!.id, sockets['/other']!.id].sort())
  t.notOk(seen.some((s) => s.socketId === elsewhere.id), 'nothing for the other connection')
  const failed = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'identity change hook of plugin "identity-watcher" failed')
  t.equal(failed.length, 1, 'the hook that threw is logged')
  t.match(failed[0], { plugin: 'identity-watcher', hook: 'identity change', nsp: '/other', err: { message: 'hook failure' } })

  // The pending hook is drained like a connection hook's.
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const draining = core.dispatch.drain().then(() => 'drained')
  // Without a pending hook the drain settles within microtasks: one turn of the event loop is enough to see it.
  const turn = new Promise((resolve) => { setImmediate(() => { resolve('pending') }) })
  t.equal(await Promise.race([draining, turn]), 'pending', 'the drain waits for the pending hook')
  release()
  t.equal(await draining, 'drained')
  t.equal(settled(), true, 'the drain settled after the hook')
})

t.test('a namespace without identity hooks renews as before', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token(claims) })
  t.match(await server.emitWithAck(socket, 'auth:refresh', server.token({ ...claims, role: 'manager' })), { ok: true })
  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['manager'] })
})
