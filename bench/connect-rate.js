// Scenario 4: connection rate with JWT auth. K clients, each with its own HS256 JWT, connect with at
// most --concurrency handshakes in flight. A connection counts once it is usable: for Socket.IO (the
// product and bare) when the namespace CONNECT ack "40{sid}" arrives, i.e. after the JWT middleware
// ran; for raw ws when the 101 arrives (the JWT, in the query string, is verified before the upgrade).
// Reported: handshakes per second, and server CPU microseconds per connection (all threads, and the main thread's).
// Every server first opens and closes --warmup connections (JIT warm-up), which are not measured. By default
// (--interleave) every variant's server runs for the whole invocation and each repetition is a block of K
// handshakes to each variant in turn, the connections kept open up to --hold per server (see runInterleaved);
// --interleave=false starts a server per variant and repetition instead (the method before 2026-12-02).
//   node bench/connect-rate.js           # full: 20 blocks of K=1000 per variant, 5,000 held, 3,000 warm-up
//   node bench/connect-rate.js --quick   # smoke check
//   node bench/connect-rate.js --interleave=false --k=5000 --warmup=500 --reps=5   # a process per repetition
import { closeAll, connectClients } from './lib/clients.js'
import { helpRequested, list, parseArgs, runMain } from './lib/cli.js'
import { tokenFor } from './lib/credentials.js'
import { cpuStatDelta, foreignLoad, pinSelf, readCpuStat, requireOpenFiles, sleep, threadCpu } from './lib/machine.js'
import { fmt, range, ratios, Recorder, rotate, table, targetLine } from './lib/report.js'
import { checkBuild, DEFAULT_ENDPOINT, serversCpuMs, startServer } from './lib/servers.js'

const usage = `
node bench/connect-rate.js [--variants=product,socketio,ws-frame] [--k=1000] [--warmup=3000] [--concurrency=100] [--reps=20]
  [--server-cpu=0] [--client-cpu=1] [--endpoint=bench|tenant-broadcast] [--interleave=false] [--hold=5000] [--quick]
`
const args = parseArgs(process.argv.slice(2), {
  variants: 'product,socketio,ws-frame',
  k: 1000,
  warmup: 3000,
  concurrency: 100,
  reps: 20,
  serverCpu: 0,
  clientCpu: 1,
  endpoint: DEFAULT_ENDPOINT,
  interleave: true,
  hold: 5000
}, { k: 300, warmup: 100, reps: 1 })
helpRequested(args, usage)
const variants = list(args.variants)

/** Starts a variant's server and opens and closes --warmup connections (JIT warm-up), which are not measured. */
async function startWarm (variant, invalid) {
  const server = await startServer({ variant, cpu: args.serverCpu, endpoint: args.endpoint })
  if (args.warmup > 0) {
    const w = await connectClients({ variant, servers: [server], n: args.warmup, concurrency: args.concurrency, first: args.k * args.reps })
    if (w.failed > 0) invalid.push(`${w.failed} of ${args.warmup} warm-up connections failed (${w.errors.slice(0, 2).join('; ')})`)
    closeAll(w.conns)
    await sleep(500)
  }
  return server
}

/**
 * Opens --k connections to a running server (clients numbered `first`.., each its own token) and measures them;
 * they stay open, in `conns`.
 * `invalid` may hold the warm-up's findings.
 */
async function measure (variant, server, first, conns, invalid = []) {
  const warnings = []
  await sleep(200)
  const s1 = await server.stats()
  const t1 = threadCpu(server.pid)
  const c1 = process.cpuUsage()
  const p1 = readCpuStat()
  const r = await connectClients({ variant, servers: [server], n: args.k, concurrency: args.concurrency, first })
  const c2 = process.cpuUsage()
  const p2 = readCpuStat()
  const s2 = await server.stats()
  const t2 = threadCpu(server.pid)
  conns.push(...r.conns)
  if (r.failed > 0) invalid.push(`${r.failed} of ${args.k} connections failed (${r.errors.slice(0, 2).join('; ')})`)
  if (r.timedOut) invalid.push('timed out')
  const sockets = s2.fds - s1.fds
  if (sockets < r.ok) invalid.push(`the server holds ${sockets} sockets more, ${r.ok} more clients are connected`)
  await sleep(200)
  const lost = r.conns.filter((c) => c !== undefined && c.lostAt > 0).length
  if (lost > 0) invalid.push(`${lost} clients lost their connection`)
  if (server.crashed) invalid.push(`server exited (${server.exitCode})`)
  const cpuMs = serversCpuMs([s1], [s2])
  const serverCpuPct = (cpuMs / (s2.now - s1.now)) * 100
  const clientCpuPct = ((c2.user - c1.user + c2.system - c1.system) / 1000 / r.ms) * 100
  const cores = cpuStatDelta(p1, p2)
  const res = {
    variant,
    k: args.k,
    concurrency: args.concurrency,
    ok: r.ok,
    failed: r.failed,
    ms: r.ms,
    connPerSec: (r.ok / r.ms) * 1000,
    serverUsPerConn: (cpuMs * 1000) / r.ok,
    // The event loop's share; the rest is V8's GC and compiler threads (and libuv's pool), on the same pinned core.
    serverMainUsPerConn: (t2.main - t1.main) / r.ok,
    serverCpuPct,
    clientCpuPct,
    clientUsPerConn: ((c2.user - c1.user + c2.system - c1.system) / r.ok),
    cores,
    foreignPct: foreignLoad(cores, args.serverCpu, serverCpuPct, args.clientCpu, clientCpuPct),
    invalid,
    warnings
  }
  if (res.foreignPct > 10) warnings.push(`foreign load ${Math.round(res.foreignPct)}% of a core on the bench's CPUs`)
  if (clientCpuPct > 90) warnings.push(`load generator at ${Math.round(clientCpuPct)}% CPU: the rate may be the client's limit`)
  res.valid = invalid.length === 0
  return res
}

/** One repetition of one variant: its own server, warmed, K connections measured, then stopped. */
async function runOne (variant) {
  const invalid = []
  let server
  const conns = []
  try {
    server = await startWarm(variant, invalid)
    return await measure(variant, server, 0, conns, invalid)
  } catch (err) {
    invalid.push(`error: ${err.message}`)
    return { variant, valid: false, invalid, warnings: [] }
  } finally {
    await server?.stop() // the server closes first: TIME_WAIT lands on its side
    closeAll(conns)
    await sleep(1000)
  }
}

/**
 * --interleave: every variant's server started and warmed once, side by side on the server core; each repetition
 * then opens K more connections to each variant in turn (rotated), which stay open, up to --hold per server (the
 * oldest block is closed, untimed, before a block that would pass it). Drift of a shared machine (the same server's
 * rate moves 2x within minutes here) then falls on both variants of a repetition alike: a repetition's ratio
 * compares two blocks a second apart, instead of two processes a minute apart.
 */
async function runInterleaved (rec) {
  // Per variant: its server, its descriptors after the warm-up, its open blocks (oldest first), the warm-up's findings.
  const lanes = new Map()
  try {
    for (const v of variants) {
      const warmInvalid = []
      const server = await startWarm(v, warmInvalid)
      lanes.set(v, { server, fds: (await server.stats()).fds, blocks: [], warmInvalid })
    }
    for (let rep = 1; rep <= args.reps; rep++) {
      for (const v of rotate(variants, rep)) {
        const { server, fds, blocks, warmInvalid } = lanes.get(v)
        const invalid = rep === 1 ? warmInvalid : []
        let r
        try {
          while (blocks.length > 0 && (blocks.length + 1) * args.k > args.hold) closeAll(blocks.shift())
          const open = blocks.length * args.k
          await settle(server, fds + open, invalid)
          const conns = []
          blocks.push(conns)
          r = await measure(v, server, (rep - 1) * args.k, conns, invalid)
          r.open = open // connections already open on this server when the block started
        } catch (err) {
          invalid.push(`error: ${err.message}`)
          r = { variant: v, valid: false, invalid, warnings: [] }
        }
        record(rec, r, rep)
      }
    }
  } finally {
    for (const { server } of lanes.values()) await server.stop()
    for (const { blocks } of lanes.values()) for (const conns of blocks) closeAll(conns)
    await sleep(1000)
  }
}

/** Waits (10 s at most) until the server holds no more than `fds` descriptors: the closed block is gone. */
async function settle (server, fds, invalid) {
  const deadline = Date.now() + 10000
  for (;;) {
    const held = (await server.stats()).fds
    if (held <= fds + 20) return
    if (Date.now() > deadline) {
      invalid.push(`the server still held the closed connections after 10 s (${held} descriptors, ${fds} expected)`)
      return
    }
    await sleep(50)
  }
}

function record (rec, r, rep) {
  r.rep = rep
  rec.add(r, `rep ${rep} ${r.variant.padEnd(8)}: ` + (r.connPerSec === undefined
    ? 'no measurement'
    : `${fmt(r.connPerSec)} conn/s (${r.ok} ok, ${r.failed} failed, ${fmt(r.ms)} ms), server ${fmt(r.serverCpuPct)}% cpu ${fmt(r.serverUsPerConn)} us/conn (main thread ${fmt(r.serverMainUsPerConn)}), ` +
      `client ${fmt(r.clientCpuPct)}% ${fmt(r.clientUsPerConn)} us/conn, foreign ${fmt(r.foreignPct)}%`))
}

runMain(async () => {
  checkBuild(variants, args.endpoint)
  requireOpenFiles(args.interleave ? Math.min(args.k * args.reps, Math.max(args.hold, args.k)) * variants.length + 1000 : args.k + 1000)
  pinSelf(args.clientCpu)
  for (let i = 0; i < args.k * args.reps + args.warmup; i++) tokenFor(i) // signed before anything is timed
  const rec = new Recorder('connect-rate', args)
  if (args.interleave) {
    await runInterleaved(rec)
  } else {
    for (let rep = 1; rep <= args.reps; rep++) {
      for (const v of rotate(variants, rep)) record(rec, await runOne(v), rep)
    }
  }
  rec.finish(summary(rec.runs))
})

function summary (runs) {
  let out = `endpoint: ${args.endpoint}; K=${args.k} connections (after ${args.warmup} warm-up ones), ${args.concurrency} handshakes in flight, every client with its own HS256 JWT; ${args.reps} reps\n`
  if (args.interleave) out += `interleaved: every server started once, each repetition K more connections to each variant in turn (at most ${Math.max(args.hold, args.k)} open on each: the oldest block closed first)\n`
  out += 'median [min..max] over valid runs; ratios per repetition\n\n'
  const rows = variants.map((v) => {
    const rs = runs.filter((r) => r.variant === v)
    const ok = rs.filter((r) => r.valid)
    return {
      variant: v,
      'conn/s': range(ok.map((r) => r.connPerSec)),
      'srv us/conn': range(ok.map((r) => r.serverUsPerConn)),
      'main thread us/conn': range(ok.map((r) => r.serverMainUsPerConn)),
      'conn/s per srv core': range(ok.map((r) => 1e6 / r.serverUsPerConn)),
      'srv cpu%': range(ok.map((r) => r.serverCpuPct)),
      'cli us/conn': range(ok.map((r) => r.clientUsPerConn)),
      'foreign%': range(ok.map((r) => r.foreignPct)),
      valid: `${ok.length}/${rs.length}`,
      'conn/s / socketio': v === 'socketio' ? '1' : range(ratios(runs, 'connPerSec', v, 'socketio'), 2),
      'us/conn / socketio': v === 'socketio' ? '1' : range(ratios(runs, 'serverUsPerConn', v, 'socketio'), 2),
      'conn/s / ws-frame': v === 'ws-frame' ? '1' : range(ratios(runs, 'connPerSec', v, 'ws-frame'), 2)
    }
  })
  out += table(rows)
  if (variants.includes('product') && variants.includes('socketio')) {
    out += '\n## Targets (median of per-repetition ratios)\n'
    out += targetLine('connection rate: product / socketio (+ fast-jwt) >= 0.9', ratios(runs, 'connPerSec', 'product', 'socketio'), (x) => x >= 0.9) + '\n'
    out += targetLine('issue 20: connection rate: product / socketio (+ fast-jwt) >= 1.0', ratios(runs, 'connPerSec', 'product', 'socketio'), (x) => x >= 1.0) + '\n'
  }
  return out
}
