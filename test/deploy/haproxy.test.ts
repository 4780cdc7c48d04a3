// deploy/haproxy/haproxy.cfg run for real (Debian's haproxy) in front of two nodes on one Redis, with only its
// addresses changed from compose's to the loopback: a long-polling client stays on its node through the cookie
// (and fails without it), and a draining node leaves the rotation while it still listens.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { io } from 'socket.io-client'
import { deleteRedisPrefix, eventually, freePort, signToken, startServer, TEST_API_KEY, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { drainAndClose } from '../../src/core/drain.js'

const HAPROXY = 'haproxy'
const available = spawnSync(HAPROXY, ['-v'], { stdio: 'ignore' }).status === 0

/** The shipped config with the compose names and ports replaced by loopback ones; fails if one is missing. */
function loopbackConfig (text: string, lbPort: number, nodes: Record<string, number>): string {
  const replace = (from: RegExp, to: string): void => {
    if (!from.test(text)) throw new Error(`haproxy.cfg has no ${String(from)}`)
    text = text.replace(from, to)
  }
  replace(/^(\s*)bind :\d+$/m, `$1bind 127.0.0.1:${lbPort}`)
  // Docker's DNS (127.0.0.11) does not exist here: no resolvers section, addresses given as IPs.
  replace(/^resolvers docker\n(?:[ \t]+.*\n)+/m, '')
  replace(/ resolvers docker/, '')
  for (const [name, port] of Object.entries(nodes)) replace(new RegExp(`(server ${name}) ${name}:\\d+`), `$1 127.0.0.1:${port}`)
  return text
}

/** Which server HAProxy picked for a request without a cookie, from the cookie it sets. */
async function pickedServer (url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/health`)
  await res.text()
  return /rt_node=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
}

t.test('HAProxy with the shipped config', async (t) => {
  // Not a skip: .ci/run installs it, and a machine without it must say so.
  if (!available) {
    t.fail('haproxy is not installed (apt-get install -y haproxy; .ci/run installs it)')
    return
  }
  const prefix = `test-haproxy-${randomUUID().slice(0, 8)}`
  const raw = JSON.parse(readFileSync('deploy/config/realtime.json', 'utf8'))
  delete raw.$schema
  const config = { ...raw, metrics: { enabled: true } }
  const app1: TestServer = await startServer({ redis: prefix, config })
  let app1Closed = false
  t.teardown(async () => { if (!app1Closed) await app1.close() })
  const app2: TestServer = await startServer({ redis: prefix, config })
  t.teardown(async () => {
    await app2.close()
    await deleteRedisPrefix(prefix)
  })
  const lbPort = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'rt-haproxy-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const cfg = join(dir, 'haproxy.cfg')
  writeFileSync(cfg, loopbackConfig(readFileSync('deploy/haproxy/haproxy.cfg', 'utf8'), lbPort, { app1: app1.port, app2: app2.port }))
  const check = spawnSync(HAPROXY, ['-c', '-f', cfg], { encoding: 'utf8' })
  t.equal(check.status, 0, `haproxy -c accepts the config: ${check.stderr}`)
  const lb = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: 'ignore' })
  const lbExited = new Promise((resolve) => lb.once('exit', resolve))
  const sockets: ClientSocket[] = []
  // Teardowns run in reverse order: clients and HAProxy go before the nodes.
  t.teardown(async () => {
    for (const s of sockets) s.disconnect()
    lb.kill('SIGTERM')
    await lbExited
  })
  const url = `http://127.0.0.1:${lbPort}`
  await eventually('HAProxy routes to both nodes', async () => {
    try {
      const seen = new Set([await pickedServer(url), await pickedServer(url)])
      return seen.has('app1') && seen.has('app2')
    } catch {
      return false
    }
  }, { timeoutMs: 15_000 })

  const pollingClient = (withCredentials: boolean): ClientSocket => {
    const socket = io(url, { transports: ['polling'], withCredentials, reconnection: false, forceNew: true, auth: { token: signToken({ sub: 'u1', tenantId: 'acme' }) } })
    sockets.push(socket)
    return socket
  }

  await t.test('a long-polling client keeps its node through the cookie and gets an event published on any node', async (t) => {
    const socket = pollingClient(true)
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })
    t.equal(socket.io.engine.transport.name, 'polling', 'still on long-polling')
    const got = new Promise<unknown[]>((resolve) => { socket.once('contact_deleted', (...args: unknown[]) => { resolve(args) }) })
    // Two triggers without the cookie: round robin sends one to each node, so one of them crosses nodes.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/api/tenant-broadcast/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY },
        body: JSON.stringify({ tenantId: 'acme', type: 'contact_deleted', payload: { contactId: `c${i}`, tenantId: 'acme' } })
      })
      const body = await res.json() as { recipients: number }
      t.equal(res.status, 200, `trigger ${i} accepted`)
      t.equal(body.recipients, 1, `trigger ${i} counts the one client, on whichever node it is`)
    }
    const [payload] = await got
    t.match(payload, { contactId: 'c0' }, 'the first event arrived over long-polling')
    t.ok(socket.connected, 'still connected after several polls')
  })

  await t.test('without the cookie, round robin sends the session\'s next request to the other node: refused', async (t) => {
    const socket = pollingClient(false)
    const outcome = await new Promise<string>((resolve) => {
      socket.once('connect_error', (err) => { resolve(`connect_error: ${err.message}`) })
      socket.once('disconnect', (reason) => { resolve(`disconnect: ${reason}`) })
    })
    t.match(outcome, /^(connect_error|disconnect)/, `the session breaks (${outcome})`)
  })

  await t.test('a draining node leaves the rotation while it still listens', async (t) => {
    for (const s of sockets) s.disconnect()
    const core = (app1.app as unknown as Record<symbol, Core>)[kCore]!
    const drained = drainAndClose(app1.app, core, app1.config.shutdown.drainDelayMs)
    app1Closed = true
    // Four new clients in a row all sent to app2: round robin would alternate while app1 is up.
    await eventually('HAProxy sends new clients to app2 only', async () => {
      for (let i = 0; i < 4; i++) if (await pickedServer(url) !== 'app2') return false
      return true
    }, { timeoutMs: app1.config.shutdown.drainDelayMs })
    t.ok(app1.app.server.listening, 'app1 still listens (draining): nothing new was sent to a node about to close')
    await drained
    t.equal(await pickedServer(url), 'app2', 'after the drain, app2 serves')
  })
})
