// Scenario 3: server memory per idle authenticated connection. Clients (each with its own JWT) are
// added in steps; at each level the server (started with --expose-gc) runs two full GCs and reports
// RSS and heap. The figure is the MARGINAL cost between the last two levels (5k -> 10k by default):
// (memory at 10k - memory at 5k) / 5000, which leaves out start-up and warm-up allocations.
//   node bench/memory.js            # full: levels 0,5000,10000, 5 reps
//   node bench/memory.js --quick    # smoke check
import { closeAll, connectClients } from './lib/clients.js'
import { helpRequested, list, numbers, parseArgs, runMain, usageError } from './lib/cli.js'
import { pinSelf, requireOpenFiles, sleep } from './lib/machine.js'
import { fmt, range, ratios, Recorder, rotate, table, targetLine } from './lib/report.js'
import { checkBuild, DEFAULT_ENDPOINT, startServer } from './lib/servers.js'

const usage = `
node bench/memory.js [--variants=product,socketio,ws-frame] [--levels=0,5000,10000] [--reps=5]
  [--settle=2000] [--server-cpu=0] [--client-cpu=1] [--endpoint=bench|tenant-broadcast] [--quick]
`
const args = parseArgs(process.argv.slice(2), {
  variants: 'product,socketio,ws-frame',
  levels: '0,5000,10000',
  reps: 5,
  settle: 2000,
  serverCpu: 0,
  clientCpu: 1,
  endpoint: DEFAULT_ENDPOINT
}, { levels: '0,250,500', reps: 1, settle: 1000 })
helpRequested(args, usage)

const variants = list(args.variants)
const levels = numbers(args.levels).sort((a, b) => a - b)
if (levels.length < 2) usageError('--levels needs at least two levels')
const [loLevel, hiLevel] = levels.slice(-2)

async function runOne (variant) {
  const invalid = []
  const warnings = []
  let server
  const conns = []
  const points = []
  try {
    server = await startServer({ variant, cpu: args.serverCpu, endpoint: args.endpoint, exposeGc: true })
    const base = await server.gc()
    if (base.error) throw new Error(base.error)
    for (const level of levels) {
      const add = level - conns.length
      if (add > 0) {
        const r = await connectClients({ variant, servers: [server], n: add, first: conns.length })
        conns.push(...r.conns)
        if (r.failed > 0) {
          invalid.push(`${r.failed} of ${add} connections failed on the way to ${level} (${r.errors.slice(0, 2).join('; ')})`)
          break
        }
      }
      await sleep(args.settle)
      const s = await server.gc()
      const sockets = s.fds - base.fds
      if (sockets < level) invalid.push(`at ${level}: the server holds ${sockets} sockets`)
      points.push({ conns: level, rss: s.mem.rss, heapUsed: s.mem.heapUsed, heapTotal: s.mem.heapTotal, external: s.mem.external, arrayBuffers: s.mem.arrayBuffers, fds: s.fds })
    }
    const lost = conns.filter((c) => c.lostAt > 0).length
    if (lost > 0) invalid.push(`${lost} clients lost their connection`)
    if (server.crashed) invalid.push(`server exited (${server.exitCode})`)
  } catch (err) {
    invalid.push(`error: ${err.message}`)
  } finally {
    await server?.stop() // the server closes first: TIME_WAIT lands on its side
    closeAll(conns)
    await sleep(500)
  }
  const lo = points.find((p) => p.conns === loLevel)
  const hi = points.find((p) => p.conns === hiLevel)
  const per = (k) => (lo && hi ? (hi[k] - lo[k]) / (hiLevel - loLevel) : NaN)
  const res = {
    variant,
    points,
    rssPerConn: per('rss'),
    heapPerConn: per('heapUsed'),
    externalPerConn: per('external'),
    rssMB: hi ? hi.rss / 1048576 : NaN,
    invalid,
    warnings
  }
  res.valid = invalid.length === 0 && lo !== undefined && hi !== undefined
  return res
}

runMain(async () => {
  checkBuild(variants, args.endpoint)
  requireOpenFiles(hiLevel + 1000)
  pinSelf(args.clientCpu)
  const rec = new Recorder('memory', args)
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const v of rotate(variants, rep)) {
      const r = await runOne(v)
      r.rep = rep
      rec.add(r, `rep ${rep} ${v.padEnd(8)}: ` + r.points.map((p) => `${p.conns}: rss ${fmt(p.rss / 1048576, 1)} MB heap ${fmt(p.heapUsed / 1048576, 1)} MB`).join('; ') +
        ` | marginal ${loLevel}->${hiLevel}: ${fmt(r.rssPerConn)} B/conn rss, ${fmt(r.heapPerConn)} B/conn heap`)
    }
  }
  rec.finish(summary(rec.runs))
})

function summary (runs) {
  let out = `endpoint: ${args.endpoint}; levels ${levels.join(', ')}; ${args.reps} reps; two full GCs before each reading\n`
  out += `marginal bytes per idle authenticated connection from ${loLevel} to ${hiLevel}; median [min..max] over valid runs; ratios per repetition\n\n`
  const rows = variants.map((v) => {
    const rs = runs.filter((r) => r.variant === v)
    const ok = rs.filter((r) => r.valid)
    const at = (level, k) => ok.map((r) => r.points.find((p) => p.conns === level)?.[k] / 1048576)
    return {
      variant: v,
      'rss B/conn': range(ok.map((r) => r.rssPerConn)),
      'heap B/conn': range(ok.map((r) => r.heapPerConn)),
      'external B/conn': range(ok.map((r) => r.externalPerConn)),
      [`rss MB at ${hiLevel}`]: range(at(hiLevel, 'rss'), 1),
      [`heap MB at ${hiLevel}`]: range(at(hiLevel, 'heapUsed'), 1),
      valid: `${ok.length}/${rs.length}`,
      'rss / socketio': v === 'socketio' ? '1' : range(ratios(runs, 'rssPerConn', v, 'socketio'), 2),
      'heap / socketio': v === 'socketio' ? '1' : range(ratios(runs, 'heapPerConn', v, 'socketio'), 2),
      'rss / ws-frame': v === 'ws-frame' ? '1' : range(ratios(runs, 'rssPerConn', v, 'ws-frame'), 2)
    }
  })
  out += table(rows)
  if (variants.includes('product') && variants.includes('socketio')) {
    out += '\n## Targets (median of per-repetition ratios)\n'
    out += targetLine('memory per connection (RSS): product / socketio <= 1.1', ratios(runs, 'rssPerConn', 'product', 'socketio'), (x) => x <= 1.1) + '\n'
    out += targetLine('memory per connection (heap): product / socketio <= 1.1', ratios(runs, 'heapPerConn', 'product', 'socketio'), (x) => x <= 1.1) + '\n'
    // Issue 20's targets (the second round of performance work).
    out += targetLine('issue 20: memory per connection (RSS): product / socketio <= 0.75', ratios(runs, 'rssPerConn', 'product', 'socketio'), (x) => x <= 0.75) + '\n'
    const heap = runs.filter((r) => r.variant === 'product' && r.valid).map((r) => r.heapPerConn)
    out += targetLine('issue 20: heap per connection (bytes, not a ratio) <= 8,500', heap, (x) => x <= 8500) + '\n'
  }
  return out
}
