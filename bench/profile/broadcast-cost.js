#!/usr/bin/env node
// Cost of the broadcast hot path per delivered message, measured two ways that survive a loaded machine:
//   --tool=cpu       server CPU µs (process.cpuUsage) per delivered message
//   --tool=callgrind server instructions (valgrind callgrind, user space only) per delivered message:
//                    counters are zeroed after the warm-up and dumped after the measured broadcasts, so
//                    start-up stays out. irPerMsg counts the main thread (the event loop, where the hot
//                    path runs: repeatable to about 1%); irAllThreadsPerMsg adds V8's helper threads
//                    (background JIT and GC), which vary from run to run.
// The server is bench/profile/server.js (N clients in one room, one broadcast per IPC message; no HTTP
// trigger, no JWT check on the baselines). Broadcasts are paced: each one is delivered to every client
// before the next is sent after --gap ms, as at a fixed low rate (every broadcast meets idle sockets).
// Variants: sio (bare Socket.IO), sio-fast (bare Socket.IO + src/core/patches/fast-broadcast.ts), ws-frame (the
// limit), product (the product in-process, --product-fast=1/0 for socketio.fastBroadcast). sio-fast and
// product run dist/: `npm run build` first.
//
//   node bench/profile/broadcast-cost.js --tool=callgrind --impls=sio,sio-fast,ws-frame --n=200 --k=100
//   node bench/profile/broadcast-cost.js --tool=cpu --impls=sio,sio-fast,ws-frame --n=1000 --k=500 --reps=5
//   PROFILE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof --cpu-prof-interval=100" node bench/profile/broadcast-cost.js --impls=sio-fast
// PROFILE_KEEP_CALLGRIND=1 keeps the callgrind dumps (callgrind_annotate <file>).
// Impls: sio, sio-fast, ws-frame, product (fastBroadcast on), product:0 (off); a third field sets
// socketio.maxBufferedBytes (product:1:0 and product:0:0: the slow-consumer bound off, to measure its cost); a fourth,
// metrics.enabled (product:1::0: metrics off, an empty field keeping the default bound; product:1::np: on, without
// Node's process metrics).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { list, parseArgs } from '../lib/cli.js'
import { tokenFor } from '../lib/credentials.js'
import { pinSelf, sleep } from '../lib/machine.js'
import { callgrindControl, dumpedInstructions } from '../lib/callgrind.js'
import { closeAll } from '../lib/clients.js'
import { openMany } from '../lib/rawws.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const args = parseArgs(process.argv.slice(2), {
  tool: 'cpu',
  impls: 'sio,sio-fast,ws-frame',
  n: 200,
  k: 100,
  warm: 100,
  gap: 2,
  reps: 1,
  rooms: 3,
  serverCpu: 0,
  clientCpu: 1,
  out: ''
})
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'))
  process.exit(0)
}
const impls = list(args.impls)
pinSelf(args.clientCpu)
const cgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-cg-'))

function startServer (impl) {
  // product:0 = product with fastBroadcast off; product:1:0 = fastBroadcast on, socketio.maxBufferedBytes 0 (no slow-consumer bound)
  const [name, fast, bound, metrics] = impl.split(':')
  // PROFILE_NODE_ARGS: extra node options for the server (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const extra = (process.env.PROFILE_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '')
  const nodeArgs = [...extra, path.join(here, 'server.js'), `--impl=${name}`, `--rooms=${args.rooms}`, ...(fast === undefined ? [] : [`--fast=${fast}`]), ...(bound === undefined || bound === '' ? [] : [`--bound=${bound}`]), ...(metrics === undefined ? [] : [`--metrics=${metrics}`])]
  let cmd, argv
  if (args.tool === 'callgrind') {
    cmd = 'valgrind'
    argv = ['--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${path.join(cgDir, 'cg.%p.out')}`, process.execPath, ...nodeArgs]
  } else {
    cmd = 'taskset'
    argv = ['-c', String(args.serverCpu), process.execPath, ...nodeArgs]
  }
  const child = spawn(cmd, argv, { stdio: ['ignore', 'inherit', args.tool === 'callgrind' ? 'ignore' : 'inherit', 'ipc'] })
  const waiters = []
  child.on('message', (m) => { const w = waiters.shift(); if (w) w(m) })
  const next = () => new Promise((resolve) => waiters.push(resolve))
  return { child, next, send: (m) => child.send(m) }
}

async function runOne (impl) {
  const s = startServer(impl)
  const ready = await s.next()
  let delivered = 0
  let target = 0
  let onTarget = null
  const onMessage = () => {
    delivered++
    if (delivered === target && onTarget !== null) { const f = onTarget; onTarget = null; f() }
  }
  const mode = impl === 'ws-frame' ? 'ws' : 'sio'
  const res = await openMany(args.n, { mode, onMessage, path: mode === 'ws' ? '/' : '/socket.io/?EIO=4&transport=websocket' }, {
    concurrency: 50,
    perConnOpts: (i) => ({ port: ready.port, ...(mode === 'sio' ? { auth: { token: tokenFor(i) } } : {}) })
  })
  if (res.ok !== args.n) throw new Error(`${impl}: ${res.failed} clients failed: ${res.errors.join('; ')}`)
  await sleep(args.tool === 'callgrind' ? 2000 : 300)
  let seq = 0
  const oneBroadcast = () => new Promise((resolve) => {
    target = delivered + args.n
    const timer = setTimeout(() => { onTarget = null; resolve(false) }, 120000)
    onTarget = () => { clearTimeout(timer); resolve(true) }
    s.send({ cmd: 'broadcast', seq: ++seq })
  })
  for (let i = 0; i < args.warm; i++) { if (!await oneBroadcast()) throw new Error(`${impl}: warm-up broadcast not delivered`); await sleep(args.gap) }
  if (args.tool === 'callgrind') callgrindControl(s.child.pid, '-z')
  s.send({ cmd: 'stats' })
  const before = await s.next()
  const d0 = delivered
  for (let i = 0; i < args.k; i++) { if (!await oneBroadcast()) throw new Error(`${impl}: broadcast not delivered`); await sleep(args.gap) }
  s.send({ cmd: 'stats' })
  const after = await s.next()
  const msgs = delivered - d0
  const out = { impl, n: args.n, k: args.k, msgs, sockets: after.sockets }
  out.cpuUsPerMsg = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / msgs
  if (args.tool === 'callgrind') {
    callgrindControl(s.child.pid, '-d')
    const ir = dumpedInstructions(cgDir, s.child.pid)
    out.irPerMsg = ir.main / msgs
    out.irAllThreadsPerMsg = ir.all / msgs
  }
  closeAll(res.conns)
  s.send({ cmd: 'exit' })
  await new Promise((resolve) => s.child.once('exit', resolve))
  return out
}

const results = {}
for (let rep = 0; rep < args.reps; rep++) {
  const order = impls.map((_, i) => impls[(i + rep) % impls.length])
  for (const impl of order) {
    const r = await runOne(impl)
    ;(results[impl] ??= []).push(r)
    console.log(JSON.stringify({ rep, ...r }))
    if (args.out !== '') fs.appendFileSync(args.out, JSON.stringify({ rep, tool: args.tool, ...r }) + '\n')
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)] }
const key = args.tool === 'callgrind' ? 'irPerMsg' : 'cpuUsPerMsg'
const base = results['ws-frame'] ? med(results['ws-frame'].map((r) => r[key])) : undefined
console.log(`\n${args.tool}: ${key}, n=${args.n}, k=${args.k}, reps=${args.reps} (median [min..max])`)
for (const impl of impls) {
  const v = results[impl].map((r) => r[key])
  const m = med(v)
  console.log(`${impl.padEnd(12)} ${m.toFixed(args.tool === 'callgrind' ? 0 : 2).padStart(8)} [${Math.min(...v).toFixed(2)}..${Math.max(...v).toFixed(2)}]` +
    (base ? `  x ws-frame ${(m / base).toFixed(2)}` : ''))
}
if (process.env.PROFILE_KEEP_CALLGRIND) console.log(`callgrind files kept in ${cgDir}`)
else fs.rmSync(cgDir, { recursive: true, force: true })
