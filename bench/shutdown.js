// Shutdown timeline of the built product (issue 12): what keep-alive HTTP clients and a Socket.IO client see from SIGTERM to exit, and when.
// Usage: npm run build && node bench/shutdown.js [--runs=3] [--drain-delay-ms=<ms>] (default: the config default)
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { Agent, request } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { io } from 'socket.io-client'
import { parseArgs } from 'node:util'
import { API_KEY, JWT_SECRET, tokenFor } from './lib/credentials.js'
import { freePort } from './lib/machine.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'drain-delay-ms': { type: 'string' } } })
const main = path.resolve('dist/src/main.js')
if (!fs.existsSync(main)) throw new Error('dist/src/main.js is missing: run `npm run build` first')

/** One request on the keep-alive agent: its status (and headers) or its error code, and whether its connection had carried an answer before. */
function send (agent, port, answered) {
  return new Promise((resolve) => {
    let socket
    let reused = false
    const req = request({ host: '127.0.0.1', port, path: '/api/tenant-broadcast/stats', agent, headers: { 'x-api-key': API_KEY } }, (res) => {
      res.resume()
      res.on('end', () => {
        answered.add(socket)
        resolve({ at: performance.now(), status: res.statusCode, close: res.headers.connection === 'close', reused })
      })
    })
    req.on('socket', (s) => { socket = s; reused = answered.has(s) })
    req.on('error', (err) => resolve({ at: performance.now(), error: err.code ?? err.message, reused }))
    req.end()
  })
}

async function run () {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-shutdown-'))
  const config = {
    server: { host: '127.0.0.1', port, logLevel: 'warn' },
    auth: { jwt: { secret: JWT_SECRET }, apiKeys: [API_KEY] },
    plugins: { 'tenant-broadcast': {} }
  }
  if (values['drain-delay-ms'] !== undefined) config.shutdown = { drainDelayMs: Number(values['drain-delay-ms']) }
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config))
  const child = spawn(process.execPath, [main, '--config', path.join(dir, 'config.json')], {
    stdio: 'ignore',
    env: { ...process.env, PORT: '', HOST: '', CONFIG: '', REDIS_URL: '', JWT_SECRET: '', API_KEYS: '', LOG_LEVEL: '', NODE_ENV: 'production' }
  })
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve({ at: performance.now(), code })))
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  const answered = new WeakSet()
  for (;;) { // until it listens
    const o = await send(agent, port, answered)
    if (o.status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, auth: { token: tokenFor(0) } })
  await new Promise((resolve, reject) => { socket.once('connect', resolve).once('connect_error', reject) })
  const disconnected = new Promise((resolve) => socket.once('disconnect', (reason) => resolve({ at: performance.now(), reason })))

  const outcomes = []
  let stopped = false
  const loop = async () => {
    while (!stopped) {
      const o = await send(agent, port, answered)
      outcomes.push(o)
      if (o.error === 'ECONNREFUSED') return
      await new Promise((resolve) => setTimeout(resolve, 5)) // a busy backend, not a flood
    }
  }
  const loops = Array.from({ length: 4 }, loop)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const term = performance.now()
  const before = outcomes.length
  child.kill('SIGTERM')
  const [exit, disc] = await Promise.all([exited, disconnected])
  await Promise.all(loops)
  stopped = true
  agent.destroy()
  socket.close()
  fs.rmSync(dir, { recursive: true, force: true })
  const after = outcomes.slice(before)
  const first = (f) => { const o = after.find(f); return o === undefined ? NaN : Math.round(o.at - term) }
  return {
    firstNotReadyMs: first((o) => o.status === 503),
    lastOkMs: Math.round((after.filter((o) => o.status === 200).at(-1)?.at ?? term) - term),
    refusedFromMs: first((o) => o.error === 'ECONNREFUSED'),
    socketClosedMs: Math.round(disc.at - term),
    socketReason: disc.reason,
    exitMs: Math.round(exit.at - term),
    exitCode: exit.code,
    ok: after.filter((o) => o.status === 200).length,
    notReady: after.filter((o) => o.status === 503).length,
    notReadyWithoutClose: after.filter((o) => o.status === 503 && !o.close).length,
    errorsOnReused: after.filter((o) => o.error !== undefined && o.reused).map((o) => o.error),
    errorsOnNew: after.filter((o) => o.error !== undefined && !o.reused && o.error !== 'ECONNREFUSED').map((o) => o.error)
  }
}

const runs = Number(values.runs)
console.log(`shutdown timeline, ${runs} runs, drainDelayMs ${values['drain-delay-ms'] ?? 'default'}, load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`)
for (let i = 0; i < runs; i++) console.log(JSON.stringify(await run()))
