// Scenario 1: CPU per delivered message at a fixed rate (the headline) and maximum delivered msg/s.
// N clients of one tenant; REST triggers publish to the whole tenant.
//   node bench/fanout.js                      # full: N=1000,5000, rate 50k msg/s + closed loop, 5 reps
//   node bench/fanout.js --quick              # smoke check
// See bench/README.md for every option.
import { helpRequested, list, numbers, parseArgs, runMain } from './lib/cli.js'
import { fanoutRun } from './lib/fanout-run.js'
import { pinSelf, requireOpenFiles } from './lib/machine.js'
import { fmt, range, ratios, Recorder, rotate, table, targetLine as target } from './lib/report.js'
import { checkBuild, DEFAULT_ENDPOINT } from './lib/servers.js'

const usage = `
node bench/fanout.js [--variants=product,socketio,ws-frame] [--n=1000,5000] [--modes=rate,window]
  [--rate=50000] [--window=16] [--reps=5] [--warm=2] [--dur=8] [--server-cpu=0] [--client-cpu=1]
  [--endpoint=bench|tenant-broadcast] [--quick]
`
const args = parseArgs(process.argv.slice(2), {
  variants: 'product,socketio,ws-frame',
  n: '1000,5000',
  modes: 'rate,window',
  rate: 50000,
  window: 16,
  reps: 5,
  warm: 2,
  dur: 8,
  serverCpu: 0,
  clientCpu: 1,
  endpoint: DEFAULT_ENDPOINT
}, { n: '200', rate: 10000, reps: 1, warm: 1, dur: 3 })
helpRequested(args, usage)

const variants = list(args.variants)
const ns = numbers(args.n)
const modes = list(args.modes)

runMain(async () => {
  checkBuild(variants, args.endpoint)
  requireOpenFiles(Math.max(...ns) + 1000)
  pinSelf(args.clientCpu)
  const rec = new Recorder('fanout', args)
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const mode of modes) {
      for (const n of ns) {
        for (const variant of rotate(variants, rep)) {
          const { rate, window, warm, dur, clientCpu, endpoint } = args
          const r = await fanoutRun({ variant, n, mode, rate, window, warm, dur, serverCpus: [args.serverCpu], clientCpu, endpoint })
          r.rep = rep
          r.label = `${mode} N=${n}`
          rec.add(r, `rep ${rep} ${mode.padEnd(6)} N=${String(n).padEnd(5)} ${variant.padEnd(8)}: ` + (r.msgsPerSec === undefined
            ? 'no measurement'
            : `${fmt(r.msgsPerSec)} msg/s (${fmt(r.triggersPerSec, 1)} triggers/s), server ${fmt(r.serverCpuPct)}% cpu ${fmt(r.serverUsPerMsg, 2)} us/msg, ` +
              `client ${fmt(r.clientCpuPct)}% ${fmt(r.clientUsPerMsg, 2)} us/msg, foreign ${fmt(r.foreignPct)}%`))
        }
      }
    }
  }
  rec.finish(summary(rec.runs))
})

function summary (runs) {
  let out = `endpoint: ${args.endpoint}; fixed rate ${args.rate} msg/s; closed loop window ${args.window}; ${args.reps} reps x ${args.dur} s (+${args.warm} s warm-up)\n`
  out += 'figures: median [min..max] over valid runs; ratios computed per repetition\n'
  const targets = []
  for (const mode of modes) {
    out += mode === 'rate'
      ? `\n## CPU per delivered message at ${fmt(args.rate)} msg/s\n`
      : `\n## Maximum delivered msg/s (closed loop, window ${args.window})\n`
    const rows = []
    for (const n of ns) {
      const group = runs.filter((r) => r.mode === mode && r.n === n)
      const same = (a, b) => a.n === b.n && a.mode === b.mode
      for (const v of variants) {
        const rs = group.filter((r) => r.variant === v)
        const ok = rs.filter((r) => r.valid)
        const row = {
          N: n,
          variant: v,
          'msg/s': range(ok.map((r) => r.msgsPerSec)),
          'srv us/msg': range(ok.map((r) => r.serverUsPerMsg), 2),
          'srv cpu%': range(ok.map((r) => r.serverCpuPct)),
          'cli us/msg': range(ok.map((r) => r.clientUsPerMsg), 2),
          'foreign%': range(ok.map((r) => r.foreignPct)),
          valid: `${ok.length}/${rs.length}`
        }
        const key = mode === 'rate' ? 'serverUsPerMsg' : 'msgsPerSec'
        const unit = mode === 'rate' ? 'us/msg' : 'msg/s'
        row[`${unit} / socketio`] = v === 'socketio' ? '1' : range(ratios(group, key, v, 'socketio', same), 2)
        row[`${unit} / ws-frame`] = v === 'ws-frame' ? '1' : range(ratios(group, key, v, 'ws-frame', same), 2)
        rows.push(row)
        if (mode === 'rate' && v === 'product' && variants.includes('socketio')) {
          targets.push(target(`CPU per message at N=${n}: product / socketio <= 1.0`, ratios(group, key, 'product', 'socketio', same), (x) => x <= 1.0))
        }
      }
    }
    out += table(rows)
  }
  if (modes.includes('rate') && variants.includes('socketio') && variants.includes('ws-frame')) {
    for (const n of ns) {
      const group = runs.filter((r) => r.mode === 'rate' && r.n === n)
      const x = ratios(group, 'serverUsPerMsg', 'socketio', 'ws-frame', (a, b) => a.n === b.n)
      out += `socketio / ws-frame CPU per message at N=${n}: ${range(x, 2)} (the reference measured 1.5-1.65x)\n`
    }
  }
  // The slow-consumer bound's cost: each variant against the same one with `socketio.maxBufferedBytes: 0`.
  if (modes.includes('rate')) {
    for (const v of variants) {
      const off = `${v}-nobound`
      if (!variants.includes(off)) continue
      for (const n of ns) {
        const group = runs.filter((r) => r.mode === 'rate' && r.n === n)
        const x = ratios(group, 'serverUsPerMsg', v, off, (a, b) => a.n === b.n)
        out += `slow-consumer bound: ${v} / ${off} CPU per message at N=${n}: ${range(x, 3)}\n`
        targets.push(target(`bound cost at N=${n}: ${v} / ${off} < 1.03`, x, (r) => r < 1.03))
      }
    }
  }
  // The metrics' cost: the product (metrics counted, the default) against the same with `metrics.enabled: false`.
  if (modes.includes('rate') && variants.includes('product') && variants.includes('product-nometrics')) {
    for (const n of ns) {
      const group = runs.filter((r) => r.mode === 'rate' && r.n === n)
      const x = ratios(group, 'serverUsPerMsg', 'product', 'product-nometrics', (a, b) => a.n === b.n)
      out += `metrics: product / product-nometrics CPU per message at N=${n}: ${range(x, 3)}\n`
      targets.push(target(`metrics cost at N=${n}: product / product-nometrics < 1.03`, x, (r) => r < 1.03))
    }
  }
  if (targets.length > 0) out += '\n## Targets (median of per-repetition ratios)\n' + targets.join('\n') + '\n'
  return out
}
