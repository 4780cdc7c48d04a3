// Event handling cost with and without the event rate limits: server CPU µs per client event through a
// handled event (`echo`: the core's limit check, validation and dispatch, a handler that does nothing).
//   node bench/event-rate.js [--events=200000] [--reps=5] [--variants=off,socket,user,socketio] [--server-cpu=0] [--client-cpu=1] [--ack] [--batch=500]
// --batch: events written in one TCP write (then a `sync`); 4 batches in flight. `--batch=1`: each event alone.
// --ack: each `echo` asks for an acknowledgement (`421["echo",1]`), which the core answers (`{ ok: true }`): the
// cost of an answered event, the answer's write included.
// Variants: `off` (limits.events.socket.rate 0: no check), `socket` (the per-socket bucket, every event checked
// and passing), `user` (socket + user and tenant buckets in memory, no Redis); `socketio`, bare Socket.IO with the
// same JWT check and the same three events (bench/servers/baseline.js --events: no limit, no validation). Needs `npm run build`.
// It also times the per-socket check alone in this process (`take` of dist/src/core/limits/events.js with the
// limits' clock, ns per call, as the dispatch calls it): a figure that a loaded machine disturbs far less.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { helpRequested, list, parseArgs, rotatedRuns, runMain } from './lib/cli.js'
import { tokenFor } from './lib/credentials.js'
import { pinSelf } from './lib/machine.js'
import { maskedTextFrame, open, close } from './lib/rawws.js'
import { fmt, summarize } from './lib/report.js'
import { checkBuild, startServer } from './lib/servers.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const plugin = { 'bench-events': { from: path.join(here, 'events-plugin', 'index.js') } }
const LOTS = 1e9
const LIMITS = {
  off: { events: { socket: { rate: 0 }, flood: { refusals: 0 } } },
  socket: { events: { socket: { rate: LOTS, burst: LOTS } } },
  user: { events: { socket: { rate: LOTS, burst: LOTS }, user: { rate: LOTS, burst: LOTS }, tenant: { rate: LOTS, burst: LOTS } } }
}
const WINDOW = 4

const usage = `node bench/event-rate.js [--events=200000] [--reps=5] [--variants=${Object.keys(LIMITS).join(',')},socketio] [--server-cpu=0] [--client-cpu=1] [--ack] [--batch=500] [--quick]`

/** Sends `events` echo events in batches of `batch` (each followed by a `sync`, answered by `synced`), WINDOW batches in flight. */
async function drive (port, events, ack, batchSize) {
  const echo = maskedTextFrame(ack ? '421["echo",1]' : '42["echo",1]')
  const batch = Buffer.concat([...Array.from({ length: batchSize }, () => echo), maskedTextFrame('42["sync",0]')])
  const batches = Math.ceil(events / batchSize)
  return await new Promise((resolve, reject) => {
    let sent = 0
    let done = 0
    const send = (c) => {
      while (sent < batches && sent - done < WINDOW) {
        c.sock.write(batch)
        sent++
      }
    }
    const c = open(0, {
      port,
      path: '/socket.io/?EIO=4&transport=websocket',
      mode: 'sio',
      auth: { token: tokenFor(0) },
      onReady: (c) => { send(c) },
      onMessage: (c) => {
        done++
        if (done === batches) {
          close(c)
          resolve(batches * batchSize)
        } else {
          send(c)
        }
      },
      onError: (_c, err) => { reject(err) },
      onClose: () => { if (done < batches) reject(new Error('connection closed')) }
    })
    void c
  })
}

async function runOnce (variant, o) {
  const server = variant === 'socketio'
    ? await startServer({ variant: 'socketio', cpu: o.serverCpu, endpoint: 'bench', events: true })
    : await startServer({ variant: 'product', cpu: o.serverCpu, endpoint: 'bench', config: { limits: LIMITS[variant], plugins: plugin } })
  try {
    await drive(server.port, Math.min(20000, o.events), o.ack, o.batch) // warm-up
    const before = await server.stats()
    const t0 = performance.now()
    const n = await drive(server.port, o.events, o.ack, o.batch)
    const wall = performance.now() - t0
    const after = await server.stats()
    const cpuUs = (after.cpu.user + after.cpu.system) - (before.cpu.user + before.cpu.system)
    return { variant, events: n, usPerEvent: cpuUs / n, eventsPerSec: n / (wall / 1000) }
  } finally {
    await server.stop()
  }
}

/** ns per per-socket check (Date.now() included), in this process. */
async function microCheck () {
  const { EventLimits } = await import(path.join(here, '..', 'dist', 'src', 'core', 'limits', 'events.js'))
  const { clock } = await import(path.join(here, '..', 'dist', 'src', 'core', 'limits', 'clock.js'))
  const limits = new EventLimits({ limits: { socket: LIMITS.socket.events.socket, user: { rate: 0 }, tenant: { rate: 0 }, flood: { refusals: 100, windowMs: 10000 } }, plugins: {} })
  const slot = limits.slot('bench', 'echo')
  const socket = {}
  limits.attach(socket)
  const n = 5_000_000
  let passed = 0
  const best = []
  for (let rep = 0; rep < 5; rep++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) if (limits.take(socket, slot, clock()) === 0) passed++
    best.push(Number(process.hrtime.bigint() - t0) / n)
  }
  if (passed !== 5 * n) throw new Error('the check refused events')
  return summarize(best)
}

runMain(async () => {
  const o = parseArgs(process.argv.slice(2), { events: 200000, reps: 5, variants: Object.keys(LIMITS).join(','), serverCpu: 0, clientCpu: 1, ack: false, batch: 500 }, { events: 50000, reps: 1 })
  helpRequested(o, usage)
  const variants = list(o.variants)
  checkBuild(['product'], 'bench')
  pinSelf(o.clientCpu)
  for (const v of variants) if (v !== 'socketio' && LIMITS[v] === undefined) throw new Error(`unknown variant ${v} (known: ${Object.keys(LIMITS).join(', ')}, socketio)`)
  const runs = await rotatedRuns(variants, o.reps, async (v) => await runOnce(v, o))
  console.log(`\nevent-rate: ${o.events} events per run${o.ack ? ', each acknowledged' : ''}, in batches of ${o.batch}, ${o.reps} repetitions, median [min..max]`)
  const micro = await microCheck()
  console.log(`per-socket check alone: ${fmt(micro.median, 1)} ns [${fmt(micro.min, 1)}..${fmt(micro.max, 1)}] per event`)
  const off = runs.filter((x) => x.variant === 'off')
  const sio = runs.filter((x) => x.variant === 'socketio')
  /** The median [min..max] of per-repetition ratios of CPU per event against `base`'s runs; undefined without them. */
  const against = (mine, base) => {
    const ratios = mine.map((x) => { const b = base.find((y) => y.rep === x.rep); return b === undefined ? NaN : x.usPerEvent / b.usPerEvent }).filter((x) => !isNaN(x))
    if (ratios.length === 0) return undefined
    return summarize(ratios)
  }
  for (const v of variants) {
    const mine = runs.filter((x) => x.variant === v)
    const us = summarize(mine.map((x) => x.usPerEvent))
    const rate = summarize(mine.map((x) => x.eventsPerSec))
    const vsOff = v === 'socketio' ? undefined : against(mine, off)
    const vsSio = v === 'socketio' ? undefined : against(mine, sio)
    const ratio = (vsOff === undefined ? '' : `  vs off: ${fmt((vsOff.median - 1) * 100, 1)}% [${fmt((vsOff.min - 1) * 100, 1)}..${fmt((vsOff.max - 1) * 100, 1)}]`) +
      (vsSio === undefined ? '' : `  x socketio: ${fmt(vsSio.median, 2)} [${fmt(vsSio.min, 2)}..${fmt(vsSio.max, 2)}]`)
    console.log(`${v.padEnd(8)} server CPU ${fmt(us.median, 2)} µs/event [${fmt(us.min, 2)}..${fmt(us.max, 2)}]  ${fmt(rate.median)} events/s${ratio}`)
  }
})
