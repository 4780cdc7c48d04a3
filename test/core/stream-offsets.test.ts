// Guards the stream-offsets workaround (src/core/patches/stream-offsets.ts, wired in src/core/socketio.ts) through running servers.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { io } from 'socket.io-client'
import { deleteRedisPrefix, eventually, signToken, spawnServer, startServer, TEST_API_KEY, testRedisUrl, waitFor, type ClientSocket } from 'realtime-server/testing'

const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }
const post = async (url: string, path: string, body: unknown): Promise<{ status: number, body: any }> => {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}
/** Polls `check` until it returns a value, or fails after `ms` (the test kit's `eventually`). */
const until = async <T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> =>
  await eventually(what, check, { timeoutMs: ms })
const named = (name: string): string => {
  const u = new URL(testRedisUrl())
  u.searchParams.set('connectionName', name)
  return u.toString()
}

// The window of the upstream bug is between a reader's XREAD that timed out and its next XREAD. Node B's
// event loop is blocked (a busy node) right after its reader's XREAD (BLOCK 10 ms) was sent: Redis shows
// that reader idle, and an event published by node A lands in the window. Without the wrapper, B polls
// `$` again once its event loop is free, and never reads the event.
// Spawning a server and stalling it take a while on a loaded machine.
t.setTimeout(300_000)

t.test('a broadcast made while a node is between two polls of a quiet stream reaches it', async (t) => {
  const prefix = `test-offsets-${randomUUID().slice(0, 8)}`
  const nameB = `${prefix}-b`
  // B in its own process (its event loop is blocked below), A in this one.
  const [a, b] = await Promise.all([
    startServer({ config: { plugins: probe, redis: { adapter: { blockTimeInMs: 10 } } }, redis: prefix }),
    spawnServer({ plugins: probe, redis: { url: named(nameB), keyPrefix: prefix, adapter: { blockTimeInMs: 10 } } })
  ])
  const admin = new Redis(testRedisUrl())
  let socket: ClientSocket | undefined
  t.teardown(async () => {
    socket?.disconnect()
    admin.disconnect()
    await Promise.all([a.close(), b.stop()])
    await deleteRedisPrefix(prefix)
  })
  for (const node of [a, b]) await until('ready', 20_000, async () => (await fetch(`${node.url}/ready`)).status === 200 ? true : undefined)
  socket = io(b.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: signToken({ sub: 'u1', tenantId: 't' }) } })
  await new Promise((resolve, reject) => { socket!.once('connect', () => { resolve(undefined) }); socket!.once('connect_error', reject) })
  const got = waitFor(socket, 'first', { timeoutMs: 20_000 })

  /** B's reader is connected, its last command XREAD, and it is not blocked in one (flag `b`). */
  const readerIdle = async (): Promise<boolean> => {
    const list = await admin.client('LIST') as string
    return list.split('\n').some((line) => line.includes(` name=${nameB} `) && line.includes(' cmd=xread ') && !/ flags=\w*b/.test(line))
  }
  t.equal((await post(b.url, '/api/probe/stall', { ms: 5000 })).status, 200)
  // Twice in a row, 20 ms apart: a reader that polls every 10 ms is not idle twice by chance.
  let seen = 0
  await until('B idle between two polls', 4000, async () => (await readerIdle() ? ++seen : (seen = 0)) >= 2 ? true : undefined)

  const res = await post(a.url, '/api/probe/publish', { tenantId: 't', event: 'first', payload: 1 })
  t.equal(res.status, 200, `Redis accepted the event: ${JSON.stringify(res.body)}`)
  t.ok(await readerIdle(), 'it landed while B had no XREAD pending (the window of the bug)')
  t.same((await got)[0], 1, 'B read it once its event loop was free')
})
