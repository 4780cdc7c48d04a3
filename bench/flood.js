// Fairness under a flood: one socket sends events as fast as its connection takes them while a healthy client
// on the same server measures its ping (event -> event round trip) p50 / p99; with the event limits off and on.
//   node bench/flood.js [--duration=10000] [--interval=20] [--reps=3] [--variants=none,off,refuse,default] [--server-cpu=0] [--client-cpu=1]
// Variants: `none` (no flooder: the healthy client alone, default limits), `off` (flooder, limits.events.socket.rate 0),
// `refuse` (flooder, default limits but never disconnected: every event over the bucket refused), `default`
// (flooder, default limits: disconnected for flooding, and it reconnects at once and floods again).
// The flooder is a child process (raw WebSocket, pre-built frames, no acks); the healthy client pings every
// `interval` ms. Needs `npm run build`.
import { fork } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { helpRequested, list, parseArgs, rotatedRuns, runMain } from './lib/cli.js'
import { tokenFor } from './lib/credentials.js'
import { pinSelf, sleep } from './lib/machine.js'
import { close, maskedTextFrame, open } from './lib/rawws.js'
import { range } from './lib/report.js'
import { checkBuild, startServer } from './lib/servers.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const plugin = { 'bench-events': { from: path.join(here, 'events-plugin', 'index.js') } }
const LIMITS = {
  none: {},
  off: { events: { socket: { rate: 0 }, flood: { refusals: 0 } } },
  refuse: { events: { flood: { refusals: 0 } } },
  default: {}
}
const SIO_PATH = '/socket.io/?EIO=4&transport=websocket'
const usage = `node bench/flood.js [--duration=10000] [--interval=20] [--reps=3] [--variants=${Object.keys(LIMITS).join(',')}] [--server-cpu=0] [--client-cpu=1] [--quick]`

/** The flooder (child process): writes `echo` frames whenever its socket drains; reconnects when closed. */
function flooder (port) {
  const chunk = Buffer.concat(Array.from({ length: 1000 }, () => maskedTextFrame('42["echo",1]')))
  let written = 0
  let connections = 0
  let stopped = false
  const pump = (c) => {
    if (stopped || c.closed) return
    while (c.sock.write(chunk)) written += 1000
    written += 1000
    c.sock.once('drain', () => { pump(c) })
  }
  const start = () => {
    if (stopped) return
    connections++
    open(0, {
      port,
      path: SIO_PATH,
      mode: 'sio',
      auth: { token: tokenFor(1) },
      onReady: pump,
      onMessage: () => {},
      // A refused connection (cooling off after a flood) is closed and opened again at once, as a hostile client would.
      onError: (c) => { close(c); setTimeout(start, 0) },
      onClose: () => { setTimeout(start, 0) }
    })
  }
  start()
  process.on('message', (m) => {
    if (m === 'stop') {
      stopped = true
      process.send({ written, connections }, () => { process.exit(0) })
    }
  })
}

/** The healthy client: a ping every `interval` ms for `duration` ms; round trips in ms. */
async function healthy (port, duration, interval) {
  const sentAt = new Map()
  const rtts = []
  let c
  await new Promise((resolve, reject) => {
    c = open(0, {
      port,
      path: SIO_PATH,
      mode: 'sio',
      auth: { token: tokenFor(2) },
      onReady: () => { resolve() },
      onMessage: (_c, buf, start, end) => {
        const m = /^42\["pong",(\d+)\]/.exec(buf.toString('utf8', start, Math.min(end, start + 40)))
        if (m === null) return
        const seq = Number(m[1])
        const t = sentAt.get(seq)
        if (t !== undefined) {
          rtts.push(performance.now() - t)
          sentAt.delete(seq)
        }
      },
      onError: (_c, err) => { reject(err) }
    })
  })
  const end = performance.now() + duration
  let seq = 0
  while (performance.now() < end) {
    sentAt.set(seq, performance.now())
    c.sock.write(maskedTextFrame(`42["ping",${seq++}]`))
    await sleep(interval)
  }
  // Late pongs are waited for (up to 5 s): a lost one counts as missing.
  const deadline = performance.now() + 5000
  while (sentAt.size > 0 && performance.now() < deadline) await sleep(20)
  const lost = sentAt.size
  close(c)
  rtts.sort((a, b) => a - b)
  const q = (p) => rtts.length === 0 ? NaN : rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]
  return { pings: seq, lost, p50: q(0.5), p99: q(0.99), max: rtts.length === 0 ? NaN : rtts[rtts.length - 1] }
}

async function runOnce (variant, o) {
  const server = await startServer({ variant: 'product', cpu: o.serverCpu, endpoint: 'bench', config: { limits: LIMITS[variant], plugins: plugin } })
  let child
  try {
    let floodStats = { written: 0, connections: 0 }
    if (variant !== 'none') {
      child = fork(fileURLToPath(import.meta.url), ['--role=flooder', `--port=${server.port}`, `--client-cpu=${o.clientCpu}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      await sleep(1000) // the flood is under way
    }
    const before = await server.stats()
    const ping = await healthy(server.port, o.duration, o.interval)
    const after = await server.stats()
    if (child !== undefined) {
      floodStats = await new Promise((resolve) => { child.once('message', resolve); child.send('stop') })
    }
    const cpu = ((after.cpu.user + after.cpu.system) - (before.cpu.user + before.cpu.system)) / 1000 / (after.now - before.now) * 100
    return { variant, ...ping, floodEventsPerSec: floodStats.written / ((o.duration + 1000) / 1000), floodConnections: floodStats.connections, serverCpuPct: cpu }
  } finally {
    child?.kill('SIGKILL')
    await server.stop()
  }
}

const o = parseArgs(process.argv.slice(2), { duration: 10000, interval: 20, reps: 3, variants: Object.keys(LIMITS).join(','), serverCpu: 0, clientCpu: 1, role: 'main', port: 0 }, { duration: 3000, reps: 1 })
if (o.role === 'flooder') {
  pinSelf(o.clientCpu)
  flooder(o.port)
} else {
  runMain(async () => {
    helpRequested(o, usage)
    const variants = list(o.variants)
    checkBuild(['product'], 'bench')
    pinSelf(o.clientCpu)
    const runs = await rotatedRuns(variants, o.reps, async (v) => await runOnce(v, o))
    console.log(`\nflood: healthy client pings every ${o.interval} ms for ${o.duration} ms, ${o.reps} repetitions, median [min..max]`)
    for (const v of variants) {
      const mine = runs.filter((x) => x.variant === v)
      const f = (k, d = 1) => range(mine.map((x) => x[k]), d)
      console.log(`${v.padEnd(8)} ping p50 ${f('p50')} ms  p99 ${f('p99')} ms  max ${f('max')} ms  lost ${f('lost', 0)}  | flooder ${f('floodEventsPerSec', 0)} events/s written, ${f('floodConnections', 0)} connections | server CPU ${f('serverCpuPct', 0)}%`)
    }
  })
}
