#!/usr/bin/env node
// What a handshake with a JWT costs the server, in instructions (valgrind callgrind, user space), which the machine's
// speed does not change; its load does a little (V8 optimizes later on a busy machine: compare builds side by side). The servers are bench/profile/server.js: `product` (the product in-process through its
// public API, dist/: `npm run build` first; JWT auth, the core rooms, metrics on, NODE_ENV=production) and
// `sio-jwt` (bare Socket.IO with the connect-rate baseline's fast-jwt HS256 check and the same three rooms). After
// --warm handshakes the counters are zeroed, --n handshakes are made (raw WebSocket clients, each its own token,
// --concurrency in flight, kept open as scenario 4 keeps them), and the counters dumped: instructions per handshake
// on the main thread (the event loop: the handshake's own work) and on all threads (+ V8's compiler and GC threads).
//
//   node bench/profile/handshake-cost.js [--impls=product,sio-jwt] [--n=500] [--warm=300] [--reps=1]
//   node bench/profile/handshake-cost.js --impls=product,product:0,sio-jwt     # product:0 = metrics.enabled false
//   node bench/profile/handshake-cost.js --impls=product::tenant-broadcast,sio-jwt   # + the benches' plugin on '/'
//   PROFILE_KEEP_CALLGRIND=1 node bench/profile/handshake-cost.js ...          # keeps the dumps (callgrind_annotate)
//   PROFILE_VALGRIND_ARGS="--cache-sim=yes --LL=8388608,16,64" PROFILE_KEEP_CALLGRIND=1 node bench/profile/handshake-cost.js ...
//     (+ simulated cache misses in the dumps: `callgrind_annotate --show=Ir,I1mr,D1mr,D1mw`)
//   PROFILE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node bench/profile/handshake-cost.js --tool=cpu --impls=product
//     (no valgrind: a CPU profile of the server, to see where the product's extra goes)
//   node bench/profile/handshake-cost.js --tool=strace --impls=product::tenant-broadcast,sio-jwt
//     (no valgrind: system calls per handshake, every thread, counted by `strace -c` attached after the warm-up)
//   node bench/profile/handshake-cost.js --tool=perf --impls=product::tenant-broadcast,sio-jwt
//     (no valgrind: page faults, context switches and task clock per handshake, `perf stat` attached after the
//     warm-up; software events, which a VM without hardware counters still has)
//   node bench/profile/handshake-cost.js --impls=server:product,server:socketio
//     (the servers scenario 4 times, started as bench/lib/servers.js starts them: dist/src/main.js with the bench's
//     config, and bench/servers/baseline.js; unpinned unless --server-cpu=<n>, as scenario 4 pins it to 0)
//   PROFILE_KEEP_CALLGRIND=1 BENCH_SERVER_NODE_ARGS="--perf-prof --interpreted-frames-native-stack" \
//     node bench/profile/handshake-cost.js --tool=perf-record --impls=server:product,server:socketio --n=5000 --warm=500 --concurrency=100
//     (no valgrind: `perf record` of the server's CPU clock with call graphs, attached after the warm-up; run it from a
//     directory of its own, where V8 writes its jit-<pid>.dump, then `perf inject --jit -i <perf.data> -o <out>` there
//     names the JavaScript functions, and `perf report -i <out>` shows JavaScript, V8, libc and kernel time together)
//   node bench/profile/handshake-cost.js --tool=threads --impls=product::tenant-broadcast,sio-jwt --n=3000
//     (no valgrind: CPU per handshake of each server thread by name, from /proc/<pid>/task/*/stat: the event loop,
//     V8's GC and compiler threads, libuv's pool)
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { callgrindControl, dumpedInstructions } from '../lib/callgrind.js'
import { closeAll } from '../lib/clients.js'
import { list, parseArgs } from '../lib/cli.js'
import { tokenFor } from '../lib/credentials.js'
import { pinSelf, requireOpenFiles, sleep, threadCpu } from '../lib/machine.js'
import { openMany } from '../lib/rawws.js'
import { startServer } from '../lib/servers.js'

const here = path.dirname(fileURLToPath(import.meta.url))
// PROFILE_VALGRIND_ARGS: more callgrind options, e.g. `--cache-sim=yes` (simulated cache misses: this VM has no
// hardware counters).
const valgrindExtra = (process.env.PROFILE_VALGRIND_ARGS ?? '').split(/\s+/).filter((a) => a !== '')
const args = parseArgs(process.argv.slice(2), {
  impls: 'product,sio-jwt',
  tool: 'callgrind',
  n: 500,
  warm: 300,
  concurrency: 20,
  reps: 1,
  clientCpu: 'none',
  serverCpu: 'none',
  out: ''
})
const variants = list(args.impls)
requireOpenFiles(args.n + args.warm + 500)
if (args.clientCpu !== 'none') pinSelf(args.clientCpu)
const cgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-hs-'))

/**
 * A tracer (`strace -c`, `perf stat`, `perf record`) attached to the server after the warm-up, writing to a file
 * (`name`, or a fresh one); `stop()` detaches it (SIGINT) and returns its summary's counts by name, read with
 * `parse(line)` ([name, count]), or, without `parse`, the file itself.
 */
async function attachTracer (cmd, argv, parse, name = `${cmd}.${process.hrtime.bigint()}`) {
  const file = path.join(cgDir, name)
  const tracer = spawn(cmd, [...argv, '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  tracer.stderr.on('data', (d) => { err += d })
  const exited = new Promise((resolve) => tracer.once('exit', resolve))
  // strace says when it is attached; perf says nothing, and attaches within a few milliseconds.
  await Promise.race([cmd === 'strace' ? new Promise((resolve) => tracer.stderr.on('data', () => { if (/attached/.test(err)) resolve() })) : sleep(500),
    exited.then((code) => { throw new Error(`${cmd} exited (${code}): ${err}`) })])
  return async () => {
    tracer.kill('SIGINT')
    await exited
    if (parse === undefined) return file
    const counts = {}
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const entry = parse(line)
      if (entry !== undefined) counts[entry[0]] = entry[1]
    }
    return counts
  }
}

/** System calls by name, every thread: `strace -c`'s table ("% time seconds usecs/call calls [errors] syscall"). */
const attachStrace = (pid) => attachTracer('strace', ['-f', '-c', '-p', String(pid)], (line) => {
  const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line)
  return m !== null && m[2] !== 'total' ? [m[2], Number(m[1])] : undefined
})

/** Software events (a VM without hardware counters has them): `perf stat -x,` lines "value,unit,event,...". */
const attachPerf = (pid) => attachTracer('perf', ['stat', '-x,', '-e', 'task-clock,page-faults,context-switches,cpu-migrations', '-p', String(pid)], (line) => {
  const [value, , name] = line.split(',')
  return name !== undefined && value !== '' && !Number.isNaN(Number(value)) ? [name, Number(value)] : undefined
})

/**
 * `perf record` of the server's CPU clock with call graphs (frame pointers, which V8's code keeps); `stop()` resolves
 * with its file. Start the server with `--perf-prof` so that `perf inject --jit` can name JavaScript functions.
 */
const attachPerfRecord = (pid, impl) => attachTracer('perf', ['record', '-k', '1', '-e', 'cpu-clock', '-F', '4000', '-g', '-p', String(pid)],
  undefined, `perf.${impl.replace(/\W+/g, '_')}.data`)

function spawnServer (impl) {
  // product: the product in-process (bench/profile/server.js: dist/ through its public API, JWT auth, core rooms,
  // metrics on); sio-jwt: bare Socket.IO with the connect-rate baseline's fast-jwt check and rooms.
  const [name, metrics, plugin] = impl.split(':')
  const extra = (process.env.PROFILE_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '')
  const nodeArgs = [...extra, path.join(here, 'server.js'), `--impl=${name}`, ...(metrics === undefined || metrics === '' ? [] : [`--metrics=${metrics}`]), ...(plugin === undefined ? [] : [`--plugin=${plugin}`])]
  const callgrind = args.tool === 'callgrind'
  const cmd = callgrind ? 'valgrind' : process.execPath
  const argv = callgrind
    ? ['--tool=callgrind', '--separate-threads=yes', ...valgrindExtra, `--callgrind-out-file=${path.join(cgDir, 'cg.%p.out')}`, process.execPath, ...nodeArgs]
    : nodeArgs
  const child = spawn(cmd, argv, { stdio: ['ignore', 'inherit', callgrind ? 'ignore' : 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } })
  const waiters = []
  child.on('message', (m) => { const w = waiters.shift(); if (w) w(m) })
  const next = () => new Promise((resolve) => waiters.push(resolve))
  return { child, next, send: (m) => child.send(m) }
}

/**
 * `server:<variant>`: a server as the benches start it (bench/lib/servers.js), with the same `next()`/`send()` as
 * spawnServer's: 'stats' answers the CPU used and the sockets open (its descriptors, less those it had at start).
 */
async function benchServer (variant) {
  const wrap = args.tool === 'callgrind'
    ? ['valgrind', '--tool=callgrind', '--separate-threads=yes', ...valgrindExtra, `--callgrind-out-file=${path.join(cgDir, 'cg.%p.out')}`]
    : undefined
  const server = await startServer({ variant, cpu: args.serverCpu, wrap, readyTimeoutMs: 600000 })
  const fds = (await server.stats()).fds
  const replies = []
  return {
    child: server.child,
    next: async () => replies.shift() ?? { port: server.port },
    send: (m) => {
      if (m.cmd === 'exit') { replies.push(server.stop()); return }
      replies.push(server.stats().then((st) => ({ cpu: st.cpu, sockets: st.fds - fds })))
    }
  }
}

async function runOne (impl) {
  const callgrind = args.tool === 'callgrind'
  const s = impl.startsWith('server:') ? await benchServer(impl.slice('server:'.length)) : spawnServer(impl)
  const ready = await s.next()
  const conns = []
  let made = 0
  const connect = async (n) => {
    const r = await openMany(n, { mode: 'sio', path: '/socket.io/?EIO=4&transport=websocket' }, {
      concurrency: args.concurrency,
      timeoutMs: 600000,
      perConnOpts: (i) => ({ port: ready.port, auth: { token: tokenFor(made + i) } })
    })
    made += n
    conns.push(...r.conns)
    if (r.ok !== n) throw new Error(`${impl}: ${r.failed} handshakes failed (${r.errors.slice(0, 2).join('; ')})`)
    return r
  }
  try {
    await connect(args.warm)
    await sleep(callgrind ? 3000 : 500)
    if (callgrind) callgrindControl(s.child.pid, '-z')
    const stopStrace = args.tool === 'strace' ? await attachStrace(s.child.pid) : undefined
    const stopPerf = args.tool === 'perf' ? await attachPerf(s.child.pid) : undefined
    const stopRecord = args.tool === 'perf-record' ? await attachPerfRecord(s.child.pid, impl) : undefined
    const threadsBefore = args.tool === 'threads' ? threadCpu(s.child.pid) : undefined
    s.send({ cmd: 'stats' })
    const before = await s.next()
    const r = await connect(args.n)
    s.send({ cmd: 'stats' })
    const after = await s.next()
    if (after.sockets !== args.warm + args.n) throw new Error(`${impl}: the server counts ${after.sockets} sockets, expected ${args.warm + args.n}`)
    const out = { impl, n: args.n, cpuUsPerHandshake: (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / args.n, ms: r.ms }
    if (threadsBefore !== undefined) {
      const threadsAfter = threadCpu(s.child.pid)
      out.threadUsPerHandshake = Object.fromEntries(Object.entries(threadsAfter)
        .map(([name, us]) => [name, Math.round((us - (threadsBefore[name] ?? 0)) / args.n * 10) / 10]).filter(([, us]) => us > 0))
    }
    if (stopPerf !== undefined) {
      const counts = await stopPerf()
      out.perHandshake = Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, Math.round(n / args.n * 1000) / 1000]))
      out.pageFaultsPerHandshake = out.perHandshake['page-faults']
    }
    if (stopRecord !== undefined) out.perfData = await stopRecord()
    if (stopStrace !== undefined) {
      const calls = await stopStrace()
      out.syscallsPerHandshake = Object.values(calls).reduce((a, b) => a + b, 0) / args.n
      out.perHandshake = Object.fromEntries(Object.entries(calls).sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, Math.round(n / args.n * 100) / 100]))
    }
    if (callgrind) {
      callgrindControl(s.child.pid, '-d')
      const ir = dumpedInstructions(cgDir, s.child.pid)
      out.irPerHandshake = ir.main / args.n
      out.irAllThreadsPerHandshake = ir.all / args.n
    }
    return out
  } finally {
    closeAll(conns)
    s.send({ cmd: 'exit' })
    if (s.child.exitCode === null && s.child.signalCode === null) await new Promise((resolve) => s.child.once('exit', resolve))
  }
}

const results = {}
for (let rep = 0; rep < args.reps; rep++) {
  for (const v of variants.map((_, i) => variants[(i + rep) % variants.length])) {
    const r = await runOne(v)
    ;(results[v] ??= []).push(r)
    console.log(JSON.stringify({ rep, ...r }))
    if (args.out !== '') fs.appendFileSync(args.out, JSON.stringify({ rep, ...r }) + '\n')
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)] }
const key = { callgrind: 'irPerHandshake', strace: 'syscallsPerHandshake', perf: 'pageFaultsPerHandshake' }[args.tool] ?? 'cpuUsPerHandshake'
const baseImpl = ['sio-jwt', 'server:socketio'].find((v) => results[v] !== undefined)
const base = baseImpl !== undefined ? med(results[baseImpl].map((r) => r[key])) : undefined
console.log(`\n${key}, n=${args.n} after ${args.warm} warm-up handshakes, reps=${args.reps} (median [min..max])`)
for (const v of variants) {
  const xs = results[v].map((r) => r[key])
  const m = med(xs)
  console.log(`${v.padEnd(20)} ${m.toFixed(0).padStart(10)} [${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)}]` +
    (base !== undefined ? `  x ${baseImpl} ${(m / base).toFixed(3)}` : ''))
}
if (process.env.PROFILE_KEEP_CALLGRIND) console.log(`callgrind files kept in ${cgDir}`)
else fs.rmSync(cgDir, { recursive: true, force: true })
