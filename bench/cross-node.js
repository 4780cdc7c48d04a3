// Scenario 5: cross-node fanout. Two server processes share Redis (a fresh key prefix per run); the N
// clients are split between them and every trigger goes to the first node, so half of the deliveries
// cross nodes. Compared with the same N on one node (no Redis). Variants:
//   product  - two nodes with REDIS_URL: the Redis streams adapter, recipients counted on every node
//   socketio - bare Socket.IO with @socket.io/redis-streams-adapter, recipients counted with serverSideEmit
//   ws-frame - raw ws, the text relayed with Redis PUBLISH, one frame per node (local count only)
// Default: closed loop (max delivered msg/s). --mode=rate --rate=50000 measures CPU per message instead.
// On a 2-core machine both nodes share --server-cpus=0 (the client has core 1): the figure is the cost
// of the Redis path, not scale-out; with 4+ cores use --server-cpus=0,1 --client-cpu=2.
//   node bench/cross-node.js            # full
//   node bench/cross-node.js --quick    # smoke check
import { helpRequested, list, numbers, parseArgs, runMain } from './lib/cli.js'
import { fanoutRun } from './lib/fanout-run.js'
import { pinSelf, requireOpenFiles } from './lib/machine.js'
import { defaultRedisUrl, requireRedis } from './lib/redis.js'
import { fmt, range, ratios, Recorder, rotate, table } from './lib/report.js'
import { checkBuild, DEFAULT_ENDPOINT } from './lib/servers.js'

const usage = `
node bench/cross-node.js [--variants=product,socketio,ws-frame] [--n=1000] [--nodes=1,2] [--mode=window|rate]
  [--window=16] [--rate=50000] [--reps=5] [--warm=2] [--dur=8] [--server-cpus=0] [--client-cpu=1]
  [--redis=redis://127.0.0.1:6379] [--endpoint=bench|tenant-broadcast] [--quick]
`
const args = parseArgs(process.argv.slice(2), {
  variants: 'product,socketio,ws-frame',
  n: 1000,
  nodes: '1,2',
  mode: 'window',
  window: 16,
  rate: 50000,
  reps: 5,
  warm: 2,
  dur: 8,
  serverCpus: '0',
  clientCpu: 1,
  redis: defaultRedisUrl(),
  endpoint: DEFAULT_ENDPOINT
}, { n: 200, reps: 1, warm: 1, dur: 3, rate: 10000 })
helpRequested(args, usage)

const variants = list(args.variants)
const topologies = numbers(args.nodes)
const serverCpus = list(args.serverCpus)

runMain(async () => {
  checkBuild(variants, args.endpoint)
  if (topologies.some((k) => k > 1)) await requireRedis(args.redis)
  requireOpenFiles(args.n + 1000)
  pinSelf(args.clientCpu)
  const rec = new Recorder('cross-node', args)
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const nodes of topologies) {
      for (const variant of rotate(variants, rep)) {
        const { n, mode, rate, window, warm, dur, clientCpu, endpoint, redis: redisUrl } = args
        const r = await fanoutRun({ variant, n, nodes, mode, rate, window, warm, dur, serverCpus, clientCpu, endpoint, redisUrl })
        r.rep = rep
        r.label = `${nodes} node${nodes > 1 ? 's' : ''}`
        rec.add(r, `rep ${rep} ${r.label.padEnd(7)} ${variant.padEnd(8)}: ` + (r.msgsPerSec === undefined
          ? 'no measurement'
          : `${fmt(r.msgsPerSec)} msg/s` + (nodes > 1 ? ` (${fmt(r.crossNodeMsgsPerSec)} across nodes)` : '') +
            `, servers ${r.serverCpuPctByNode.map((x) => fmt(x) + '%').join(' + ')} cpu, ${fmt(r.serverUsPerMsg, 2)} us/msg, ` +
            `client ${fmt(r.clientCpuPct)}%, foreign ${fmt(r.foreignPct)}%`))
      }
    }
  }
  rec.finish(summary(rec.runs))
})

function summary (runs) {
  let out = `endpoint: ${args.endpoint}; N=${args.n} split over the nodes, triggers to node 1; mode ${args.mode}` +
    (args.mode === 'window' ? ` (closed loop, window ${args.window})` : ` (${args.rate} msg/s)`) +
    `; ${args.reps} reps x ${args.dur} s; servers on CPU ${serverCpus.join(',')}, client on CPU ${args.clientCpu}; Redis ${args.redis}\n`
  out += 'srv us/msg = CPU of all nodes per delivered message; median [min..max] over valid runs; ratios per repetition\n\n'
  const rows = []
  for (const nodes of topologies) {
    const group = runs.filter((r) => r.nodes === nodes)
    const same = (a, b) => a.nodes === b.nodes
    for (const v of variants) {
      const rs = group.filter((r) => r.variant === v)
      const ok = rs.filter((r) => r.valid)
      const row = {
        nodes,
        variant: v,
        'msg/s': range(ok.map((r) => r.msgsPerSec)),
        'across nodes msg/s': nodes > 1 ? range(ok.map((r) => r.crossNodeMsgsPerSec)) : '-',
        'srv us/msg': range(ok.map((r) => r.serverUsPerMsg), 2),
        'srv cpu% (all nodes)': range(ok.map((r) => r.serverCpuPct)),
        'foreign%': range(ok.map((r) => r.foreignPct)),
        valid: `${ok.length}/${rs.length}`,
        'msg/s / socketio': v === 'socketio' ? '1' : range(ratios(group, 'msgsPerSec', v, 'socketio', same), 2),
        'us/msg / socketio': v === 'socketio' ? '1' : range(ratios(group, 'serverUsPerMsg', v, 'socketio', same), 2)
      }
      if (nodes > 1 && topologies.includes(1)) {
        // Same variant, same repetition: N nodes against one node.
        const x = []
        for (const a of ok) {
          const b = runs.find((r) => r.variant === v && r.rep === a.rep && r.nodes === 1 && r.valid)
          if (b !== undefined) x.push(a.msgsPerSec / b.msgsPerSec)
        }
        row['msg/s / 1 node'] = range(x, 2)
      } else row['msg/s / 1 node'] = nodes === 1 ? '1' : '-'
      rows.push(row)
    }
  }
  out += table(rows)
  return out
}
