// The curve (issue 20): how each variant scales with the size of one room, on one node and on three.
//  - single node (default): one server per variant and repetition, pinned to --server-cpu; idle authenticated
//    clients added in steps (--sizes, default 100, 1,000, 5,000, 10,000, 19,000: 19,000 is the single-node
//    ceiling under a 20,000 open-file hard limit), every client in the tenant room. At each size: RSS and heap
//    after two full GCs (per connection: marginal from the previous size), then REST triggers at a fixed
//    delivered rate (--rate msg/s, at most --max-trigger-rate triggers/s): server CPU µs per delivered message,
//    and the time from each trigger to the LAST of its N deliveries (p50, p99).
//  - --cluster: 50,000 clients over three nodes on one Redis (a fresh key prefix, deleted afterwards), one tenant
//    room spanning all three, triggers to the nodes in turn: trigger -> last delivery, and each node's CPU and memory.
// The clients live in several processes on distinct loopback source addresses (lib/client-pool.js), pinned with
// the script to --client-cpu. Writes bench/results/curve-<date>.json and bench/results/curve.json (the latest).
//   node bench/curve.js              # single node, 3 variants, 5 reps (about 20 minutes on 2 cores)
//   node bench/curve.js --quick      # smoke check (sizes 100,1000, 1 rep)
//   node bench/curve.js --cluster    # 50,000 over three nodes, product and socketio
// See bench/README.md ("The curve").
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { helpRequested, list, numbers, parseArgs, runMain, usageError } from './lib/cli.js'
import { ClientPool, workersFor } from './lib/client-pool.js'
import { measureAtRate } from './lib/curve-measure.js'
import { pinSelf, requireOpenFiles, sleep } from './lib/machine.js'
import { defaultRedisUrl, redisRun, requireRedis } from './lib/redis.js'
import { fmt, range, ratios, Recorder, rotate, summarize, table } from './lib/report.js'
import { checkBuild, DEFAULT_ENDPOINT, repoDir, startServer } from './lib/servers.js'

const usage = `
node bench/curve.js [--variants=product,socketio,ws-frame] [--sizes=100,1000,5000,10000,19000] [--reps=5]
  [--rate=25000] [--max-trigger-rate=200] [--warm=1] [--dur=6] [--min-triggers=15] [--settle=1000]
  [--per-worker=8000] [--server-cpu=0] [--client-cpu=1] [--endpoint=bench|tenant-broadcast] [--quick]
node bench/curve.js --cluster [--variants=product,socketio] [--connections=50000] [--nodes=3] [--reps=3]
  [--rate=25000] [--dur=30] [--min-triggers=15] [--server-cpus=0] [--redis=redis://127.0.0.1:6379] [--quick]
`
const cluster = process.argv.includes('--cluster')
const args = parseArgs(process.argv.slice(2), {
  cluster: false,
  variants: cluster ? 'product,socketio' : 'product,socketio,ws-frame',
  sizes: '100,1000,5000,10000,19000',
  reps: cluster ? 3 : 5,
  rate: 25000,
  maxTriggerRate: 200,
  warm: 1,
  dur: cluster ? 30 : 6,
  minTriggers: 15,
  settle: 1000,
  perWorker: 8000,
  serverCpu: 0,
  serverCpus: '0',
  clientCpu: 1,
  connections: 50000,
  nodes: 3,
  redis: defaultRedisUrl(),
  endpoint: DEFAULT_ENDPOINT
}, cluster
  ? { connections: 3000, reps: 1, dur: 5, minTriggers: 5 }
  : { sizes: '100,1000', reps: 1, warm: 1, dur: 3, minTriggers: 5, settle: 500 })
helpRequested(args, usage)

const variants = list(args.variants)
const sizes = numbers(args.sizes).sort((a, b) => a - b)
const serverCpus = list(args.serverCpus)
if (!cluster && !variants.includes('socketio')) console.warn('warning: no socketio variant: no ratios')
if (!cluster && sizes.some((n) => n > 19000)) usageError('a single node holds at most 19,000 clients here (20,000 open files per process)')

/** The git commit (full sha) the run measured. */
function commit () {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Single node: one server per variant and repetition, its room grown through the sizes.

async function ladder (variant, rep, rec) {
  const runs = []
  const pool = new ClientPool(workersFor(sizes.at(-1), args.perWorker))
  let server
  let stopped // the reason the variant could not go on (a larger size is not tried)
  try {
    server = await startServer({ variant, cpu: args.serverCpu, endpoint: args.endpoint, exposeGc: true })
    const base = await server.gc()
    if (base.error) throw new Error(base.error)
    let prev = { size: 0, rss: base.mem.rss, heap: base.mem.heapUsed }
    for (const size of sizes) {
      const run = { rep, variant, size, label: `N=${size}`, valid: false, invalid: [], warnings: [] }
      if (stopped !== undefined) {
        run.stoppedBecause = stopped
        run.invalid.push(`not tried: ${stopped}`)
        runs.push(rec.add(run, line(run)))
        continue
      }
      try {
        const r = await pool.open({ variant, ports: [server.port], n: size - pool.opened })
        run.connectMs = Math.round(r.ms)
        if (r.failed > 0) throw new StopError(`${r.failed} of ${size} connections failed (${r.errors.slice(0, 2).join('; ')})`)
        await sleep(args.settle)
        const m = await server.gc()
        const sockets = m.fds - base.fds
        if (sockets < size) throw new StopError(`the server holds ${sockets} sockets, expected ${size}`)
        run.rssBytes = m.mem.rss
        run.heapBytes = m.mem.heapUsed
        run.rssPerConnBytes = (m.mem.rss - prev.rss) / (size - prev.size)
        run.heapPerConnBytes = (m.mem.heapUsed - prev.heap) / (size - prev.size)
        prev = { size, rss: m.mem.rss, heap: m.mem.heapUsed }
        const r2 = await measureAtRate({ ...timing(), servers: [server], shares: [size], pool, serverCpu: args.serverCpu })
        Object.assign(run, r2, { invalid: [...run.invalid, ...r2.invalid], warnings: [...run.warnings, ...r2.warnings] })
        run.valid = run.invalid.length === 0
        if (server.crashed) throw new StopError(`the server exited (${server.exitCode})`)
      } catch (err) {
        stopped = err instanceof StopError ? err.message : `error: ${err.message}`
        run.stoppedBecause = stopped
        run.invalid.push(stopped)
        run.valid = false
      }
      runs.push(rec.add(run, line(run)))
    }
  } finally {
    await server?.stop() // the server closes first: TIME_WAIT lands on its side
    await pool.close()
    await sleep(500)
  }
  return runs
}

class StopError extends Error {}

/** The rate and durations of a measurement (lib/curve-measure.js), from the options. */
function timing () {
  const { rate, maxTriggerRate, warm, dur, minTriggers, clientCpu } = args
  return { rate, maxTriggerRate, warm, dur, minTriggers, clientCpu }
}

function line (r) {
  const head = `rep ${r.rep} N=${String(r.size).padEnd(5)} ${r.variant.padEnd(8)}: `
  if (r.cpuUsPerMsg === undefined) return head + (r.stoppedBecause ?? 'no measurement')
  return head + `${fmt(r.msgsPerSec)} msg/s (${fmt(r.triggerRate, 1)} triggers/s), server ${fmt(r.serverCpuPct)}% ${fmt(r.cpuUsPerMsg, 2)} us/msg, ` +
    `last delivery p50 ${fmt(r.lastDeliveryMs.p50, 1)} p99 ${fmt(r.lastDeliveryMs.p99, 1)} ms (${r.triggersMeasured} triggers), ` +
    `rss ${fmt(r.rssPerConnBytes)} heap ${fmt(r.heapPerConnBytes)} B/conn, client ${fmt(r.clientCpuPct)}%, foreign ${fmt(r.foreignPct)}%`
}

const med = (values) => {
  const s = summarize(values)
  return s.n === 0 ? null : s.median
}

/** The `single` rows of the JSON file: one per variant and size, medians over the valid repetitions. */
function singleRows (runs) {
  const rows = []
  for (const size of sizes) {
    const group = runs.filter((r) => r.size === size)
    for (const variant of variants) {
      const rs = group.filter((r) => r.variant === variant)
      const ok = rs.filter((r) => r.valid)
      const cpu = summarize(ok.map((r) => r.cpuUsPerMsg))
      const ratio = (key) => variant === 'socketio' ? undefined : med(ratios(group, key, variant, 'socketio'))
      const row = {
        variant,
        size,
        reps: ok.length,
        repsRun: rs.length,
        cpuUsPerMsg: cpu.n === 0 ? null : { median: cpu.median, min: cpu.min, max: cpu.max },
        rateMsgPerSec: Math.min(args.rate, size * args.maxTriggerRate),
        lastDeliveryMs: ok.length === 0 ? null : { p50: med(ok.map((r) => r.lastDeliveryMs.p50)), p99: med(ok.map((r) => r.lastDeliveryMs.p99)) },
        rssPerConnBytes: med(ok.map((r) => r.rssPerConnBytes)),
        heapPerConnBytes: med(ok.map((r) => r.heapPerConnBytes)),
        ratioToSocketio: variant === 'socketio' || !variants.includes('socketio')
          ? null
          : {
              cpuUsPerMsg: ratio('cpuUsPerMsg'),
              p50: ratio((r) => r.lastDeliveryMs.p50),
              p99: ratio((r) => r.lastDeliveryMs.p99),
              rss: ratio('rssPerConnBytes'),
              heap: ratio('heapPerConnBytes')
            },
        serverCpuPct: med(ok.map((r) => r.serverCpuPct)),
        clientCpuPct: med(ok.map((r) => r.clientCpuPct)),
        foreignPct: med(ok.map((r) => r.foreignPct))
      }
      if (ok.length === 0) row.stoppedBecause = rs.find((r) => r.stoppedBecause)?.stoppedBecause ?? rs[0]?.invalid.join('; ') ?? 'not run'
      else if (ok.length < rs.length) row.invalidReps = rs.filter((r) => !r.valid).map((r) => `rep ${r.rep}: ${r.invalid.join('; ')}`)
      rows.push(row)
    }
  }
  return rows
}

function singleSummary (rows) {
  let out = `endpoint: ${args.endpoint}; sizes ${sizes.join(', ')}; ${args.reps} reps; ${fmt(args.rate)} msg/s (at most ${args.maxTriggerRate} triggers/s); ` +
    `server on CPU ${args.serverCpu}, clients (${workersFor(sizes.at(-1), args.perWorker)} processes) on CPU ${args.clientCpu}\n`
  out += 'median [min..max] over valid runs; ratios per repetition, then their median; B/conn marginal from the previous size (two full GCs)\n\n'
  const fmtRatio = (x) => (x === null || x === undefined ? '-' : fmt(x, 2))
  out += table(rows.map((r) => ({
    N: r.size,
    variant: r.variant,
    valid: `${r.reps}/${args.reps}`,
    'us/msg': r.cpuUsPerMsg === null ? '-' : `${fmt(r.cpuUsPerMsg.median, 2)} [${fmt(r.cpuUsPerMsg.min, 2)}..${fmt(r.cpuUsPerMsg.max, 2)}]`,
    'last p50 ms': fmt(r.lastDeliveryMs?.p50 ?? NaN, 1),
    'last p99 ms': fmt(r.lastDeliveryMs?.p99 ?? NaN, 1),
    'rss B/conn': fmt(r.rssPerConnBytes ?? NaN),
    'heap B/conn': fmt(r.heapPerConnBytes ?? NaN),
    'srv cpu%': fmt(r.serverCpuPct ?? NaN),
    'foreign%': fmt(r.foreignPct ?? NaN),
    'x sio us/msg': fmtRatio(r.ratioToSocketio?.cpuUsPerMsg),
    'x sio p50': fmtRatio(r.ratioToSocketio?.p50),
    'x sio p99': fmtRatio(r.ratioToSocketio?.p99),
    'x sio rss': fmtRatio(r.ratioToSocketio?.rss),
    'x sio heap': fmtRatio(r.ratioToSocketio?.heap),
    stopped: r.stoppedBecause ?? ''
  })))
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Cluster: `connections` clients over `nodes` nodes on one Redis, one tenant room spanning every node.

async function clusterRun (variant, rep) {
  const n = args.connections
  const nodes = args.nodes
  const run = { rep, variant, nodes, connections: n, label: `${nodes} nodes`, valid: false, invalid: [], warnings: [] }
  const redis = redisRun(args.redis)
  const servers = []
  const pool = new ClientPool(workersFor(n, args.perWorker))
  try {
    for (let k = 0; k < nodes; k++) {
      servers.push(await startServer({ variant, cpu: serverCpus[k % serverCpus.length], endpoint: args.endpoint, redis, exposeGc: true }))
    }
    const base = await Promise.all(servers.map((s) => s.stats()))
    const shares = servers.map((_s, k) => Math.floor(n / nodes) + (k < n % nodes ? 1 : 0))
    const r = await pool.open({ variant, ports: servers.map((s) => s.port), n })
    run.connectMs = Math.round(r.ms)
    if (r.failed > 0) throw new Error(`${r.failed} of ${n} connections failed (${r.errors.slice(0, 2).join('; ')})`)
    await sleep(args.settle)
    const mem = []
    for (const s of servers) mem.push(await s.gc())
    mem.forEach((m, k) => {
      if (m.fds - base[k].fds < shares[k]) run.invalid.push(`node ${k + 1} holds ${m.fds - base[k].fds} sockets, expected ${shares[k]}`)
    })
    const m = await measureAtRate({ ...timing(), warm: Math.max(args.warm, 2), servers, shares, pool, serverCpu: serverCpus[0] })
    Object.assign(run, m, { invalid: [...run.invalid, ...m.invalid], warnings: [...run.warnings, ...m.warnings] })
    run.perNode = m.perNode.map((p, k) => ({
      node: k + 1, cpu: serverCpus[k % serverCpus.length], connections: shares[k], ...p, rssBytes: mem[k].mem.rss, heapBytes: mem[k].mem.heapUsed
    }))
  } catch (err) {
    run.invalid.push(`error: ${err.message}`)
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await pool.close()
    await redis.cleanup()
    await sleep(500)
  }
  run.valid = run.invalid.length === 0
  return run
}

function clusterLine (r) {
  const head = `rep ${r.rep} ${r.nodes} nodes ${r.variant.padEnd(8)}: `
  if (r.cpuUsPerMsg === undefined) return head + 'no measurement'
  return head + `${fmt(r.connections)} clients, ${fmt(r.msgsPerSec)} msg/s (${fmt(r.triggerRate, 2)} triggers/s), last delivery p50 ${fmt(r.lastDeliveryMs.p50, 1)} ` +
    `p99 ${fmt(r.lastDeliveryMs.p99, 1)} ms (${r.triggersMeasured} triggers); ` +
    r.perNode.map((p) => `node ${p.node}: ${fmt(p.cpuPercent)}% ${fmt(p.cpuUsPerMsg, 2)} us/msg rss ${fmt(p.rssBytes / 1048576)} MB heap ${fmt(p.heapBytes / 1048576)} MB`).join('; ') +
    `; client ${fmt(r.clientCpuPct)}%, foreign ${fmt(r.foreignPct)}%`
}

/** The `cluster` object of the JSON file for one variant: medians over its valid repetitions. */
function clusterFigures (runs, variant) {
  const ok = runs.filter((r) => r.variant === variant && r.valid)
  const all = runs.filter((r) => r.variant === variant)
  const out = {
    variant,
    nodes: args.nodes,
    connections: args.connections,
    reps: ok.length,
    repsRun: all.length,
    serverCpus,
    rateMsgPerSec: args.rate,
    triggers: med(ok.map((r) => r.triggersMeasured)),
    lastDeliveryMs: ok.length === 0 ? null : { p50: med(ok.map((r) => r.lastDeliveryMs.p50)), p99: med(ok.map((r) => r.lastDeliveryMs.p99)) },
    perNode: Array.from({ length: args.nodes }, (_x, k) => {
      const ps = ok.map((r) => r.perNode[k])
      return {
        node: k + 1,
        connections: Math.floor(args.connections / args.nodes) + (k < args.connections % args.nodes ? 1 : 0),
        cpuUsPerMsg: med(ps.map((p) => p.cpuUsPerMsg)),
        cpuPercent: med(ps.map((p) => p.cpuPercent)),
        rssBytes: med(ps.map((p) => p.rssBytes)),
        heapBytes: med(ps.map((p) => p.heapBytes))
      }
    }),
    foreignPct: med(ok.map((r) => r.foreignPct))
  }
  if (ok.length === 0) out.stoppedBecause = all[0]?.invalid.join('; ') ?? 'not run'
  return out
}

function clusterSummary (runs) {
  let out = `endpoint: ${args.endpoint}; ${fmt(args.connections)} clients over ${args.nodes} nodes on Redis ${args.redis}; ${fmt(args.rate)} msg/s; triggers to the nodes in turn; ` +
    `${args.reps} reps; nodes on CPU ${serverCpus.join(',')}, clients (${workersFor(args.connections, args.perWorker)} processes) on CPU ${args.clientCpu}\n\n`
  const rows = []
  for (const v of variants) {
    const f = clusterFigures(runs, v)
    for (const p of f.perNode) {
      rows.push({
        variant: v,
        valid: `${f.reps}/${args.reps}`,
        'last p50 ms': fmt(f.lastDeliveryMs?.p50 ?? NaN, 1),
        'last p99 ms': fmt(f.lastDeliveryMs?.p99 ?? NaN, 1),
        node: p.node,
        clients: fmt(p.connections),
        'us/msg': fmt(p.cpuUsPerMsg ?? NaN, 2),
        'cpu%': fmt(p.cpuPercent ?? NaN),
        'rss MB': fmt((p.rssBytes ?? NaN) / 1048576),
        'heap MB': fmt((p.heapBytes ?? NaN) / 1048576),
        'x sio p50': v === 'socketio' ? '' : range(ratios(runs, (r) => r.lastDeliveryMs?.p50, v, 'socketio'), 2),
        'x sio p99': v === 'socketio' ? '' : range(ratios(runs, (r) => r.lastDeliveryMs?.p99, v, 'socketio'), 2)
      })
    }
  }
  out += table(rows)
  return out
}

// ---------------------------------------------------------------------------------------------------------------

/** Writes bench/results/curve-<date>.json and curve.json; keeps the other mode's part of the latest file. */
function writeJson (rec, part) {
  const dir = path.join(repoDir, 'bench', 'results')
  const latest = path.join(dir, 'curve.json')
  let previous = {}
  try {
    previous = JSON.parse(fs.readFileSync(latest, 'utf8'))
  } catch {}
  const foreign = summarize(rec.runs.filter((r) => r.valid).map((r) => r.foreignPct))
  const doc = {
    commit: commit(),
    command: `node bench/curve.js ${process.argv.slice(2).join(' ')}`.trimEnd(),
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length, // the machine's (cpuCount() would read this process's pinning: 1)
      model: os.cpus()[0]?.model,
      node: process.version,
      loadBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
      loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
      // As fanout.js records it per run: CPU time on the bench's two cores that was neither the servers' nor the
      // load generator's, in percent of one core (the larger of the two cores); here over the valid runs.
      foreignLoad: { pctOfCoreMedian: foreign.n ? foreign.median : null, pctOfCoreMax: foreign.n ? foreign.max : null, runsOver10Pct: rec.runs.filter((r) => r.foreignPct > 10).length }
    },
    endpoint: args.endpoint,
    options: args,
    single: cluster ? (previous.single ?? null) : part,
    cluster: cluster ? part : (previous.cluster ?? null)
  }
  // Where and on what machine state the kept part was measured (carried over when the previous file had kept it too).
  const from = { commit: previous.commit, date: previous.date, command: previous.command, machine: previous.machine }
  if (cluster && previous.single) doc.singleFrom = previous.singleFrom ?? from
  if (!cluster && previous.cluster) doc.clusterFrom = previous.clusterFrom ?? from
  fs.mkdirSync(dir, { recursive: true })
  const dated = path.join(dir, `curve-${cluster ? 'cluster-' : ''}${doc.date.replace(/[:.]/g, '-')}.json`)
  fs.writeFileSync(dated, JSON.stringify(doc, null, 2) + '\n')
  fs.writeFileSync(latest, JSON.stringify(doc, null, 2) + '\n')
  console.log(`JSON written to ${path.relative(process.cwd(), dated)} and ${path.relative(process.cwd(), latest)}`)
}

const loadBefore = os.loadavg()

runMain(async () => {
  checkBuild(variants, args.endpoint)
  const maxClients = cluster ? Math.ceil(args.connections / args.nodes) : sizes.at(-1)
  requireOpenFiles(Math.max(maxClients, args.perWorker) + 500) // each server holds its clients, each client worker --per-worker
  if (args.perWorker > 18000) usageError('--per-worker: at most 18,000 clients per process (20,000 open files)')
  if (workersFor(cluster ? args.connections : sizes.at(-1), args.perWorker) > 250) usageError('too many client processes')
  pinSelf(args.clientCpu) // before the client workers are forked: they inherit it
  const rec = new Recorder(cluster ? 'curve-cluster' : 'curve', args)
  if (cluster) {
    await requireRedis(args.redis)
    for (let rep = 1; rep <= args.reps; rep++) {
      for (const v of rotate(variants, rep)) {
        const r = await clusterRun(v, rep)
        rec.add(r, clusterLine(r))
      }
    }
    rec.finish(clusterSummary(rec.runs))
    const product = clusterFigures(rec.runs, variants[0])
    const others = variants.slice(1).map((v) => clusterFigures(rec.runs, v))
    const part = { ...product, others }
    if (variants.includes('socketio') && variants[0] !== 'socketio') {
      part.ratioToSocketio = {
        p50: med(ratios(rec.runs, (r) => r.lastDeliveryMs?.p50, variants[0], 'socketio')),
        p99: med(ratios(rec.runs, (r) => r.lastDeliveryMs?.p99, variants[0], 'socketio')),
        cpuUsPerMsg: med(ratios(rec.runs, 'cpuUsPerMsg', variants[0], 'socketio'))
      }
    }
    writeJson(rec, part)
    return
  }
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const v of rotate(variants, rep)) await ladder(v, rep, rec)
  }
  const rows = singleRows(rec.runs)
  rec.finish(singleSummary(rows))
  writeJson(rec, rows)
})
