// Scenario 2: REST trigger to receive latency, for a room (tenant) of N clients.
// The load generator (one process: HTTP triggers + N raw WebSocket clients, one clock) stamps each
// trigger with the time it was DUE (open loop, no coordinated omission); latency = receive - due, for
// every delivery of every trigger due in the measurement window (late ones are waited for).
//  - fixed rates (default 25, 50, 75 triggers/s): p50 / p99 / p99.9, a fresh server per run;
//  - ramp: one server per variant, rates stepped up until p99 passes --threshold (50 ms), then refined
//    by bisection: "the trigger rate at which p99 passes 50 ms".
//   node bench/latency.js            # full
//   node bench/latency.js --quick    # smoke check
import { closeAll, connectClients, deliveryProblems, waitDelivered } from './lib/clients.js'
import { helpRequested, list, numbers, parseArgs, runMain } from './lib/cli.js'
import { cpuStatDelta, foreignLoad, pinSelf, readCpuStat, requireOpenFiles, sleep } from './lib/machine.js'
import { fmt, range, ratios, Recorder, rotate, table, targetLine } from './lib/report.js'
import { checkBuild, DEFAULT_ENDPOINT, serversCpuMs, startServer } from './lib/servers.js'
import { stampOf, TriggerClient, triggerBody } from './lib/trigger.js'

const usage = `
node bench/latency.js [--variants=product,socketio,ws-frame] [--n=1000] [--rates=25,50,75]
  [--ramp=25,50,75,100,150,200,300] [--refine=2] [--threshold=50] [--reps=5] [--warm=2] [--dur=15]
  [--ramp-warm=1] [--ramp-dur=5] [--server-cpu=0] [--client-cpu=1] [--endpoint=bench|tenant-broadcast] [--quick]
  --ramp=none skips the ramp; --rates=none skips the fixed rates.
`
const args = parseArgs(process.argv.slice(2), {
  variants: 'product,socketio,ws-frame',
  n: 1000,
  rates: '25,50,75',
  ramp: '25,50,75,100,150,200,300',
  refine: 2,
  threshold: 50,
  reps: 5,
  warm: 2,
  dur: 15,
  rampWarm: 1,
  rampDur: 5,
  serverCpu: 0,
  clientCpu: 1,
  endpoint: DEFAULT_ENDPOINT
}, { n: 200, rates: '25,50', ramp: '25,50,100,200', refine: 1, reps: 1, warm: 1, dur: 3, rampDur: 2 })
helpRequested(args, usage)

const variants = list(args.variants)
const rates = args.rates === 'none' ? [] : numbers(args.rates)
const ramp = args.ramp === 'none' ? [] : numbers(args.ramp)

function pct (sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** A server and N connected clients for one variant; `step()` measures one rate on them. */
async function setup (variant) {
  const n = args.n
  const server = await startServer({ variant, cpu: args.serverCpu, endpoint: args.endpoint })
  const s0 = await server.stats()
  // Latency samples of the step being measured: deliveries of triggers DUE within [from, to).
  const state = { lat: new Float64Array(0), nLat: 0, from: Infinity, to: -Infinity }
  const onMessage = (c, buf, start, end) => {
    const now = performance.now()
    const t = stampOf(buf, start, end)
    if (t >= state.from && t < state.to && state.nLat < state.lat.length) state.lat[state.nLat++] = now - t
  }
  const r = await connectClients({ variant, servers: [server], n, onMessage })
  const problems = []
  if (r.failed > 0) problems.push(`${r.failed} of ${n} connections failed (${r.errors.slice(0, 2).join('; ')})`)
  await sleep(300)
  const s1 = await server.stats()
  if (r.failed === 0 && s1.fds - s0.fds < n) problems.push(`server holds ${s1.fds - s0.fds} sockets, expected ${n}`)
  const trig = new TriggerClient({ port: server.port, path: server.triggerPath, maxSockets: 64, expectRecipients: n })
  let expected = 0 // events every client should have received so far

  async function step (rate, warmS, durS) {
    const invalid = [...problems]
    const warnings = []
    if (invalid.length > 0) return { variant, rate, valid: false, invalid, warnings }
    const samplesMax = Math.ceil(rate * durS * 1.05 + 10) * n
    if (state.lat.length < samplesMax) state.lat = new Float64Array(samplesMax)
    state.nLat = 0
    const httpMs = []
    const errors0 = trig.errors
    const wrong0 = trig.wrongRecipients
    const ok0 = trig.ok
    const t0 = performance.now() + 20
    const tFrom = t0 + warmS * 1000
    const tTo = tFrom + durS * 1000
    state.from = tFrom
    state.to = tTo
    let seq = 0
    let inWindow = 0
    let before, c1, p1, wall1
    await new Promise((resolve) => {
      const iv = setInterval(() => {
        const now = performance.now()
        if (before === undefined && now >= tFrom) {
          wall1 = now
          c1 = process.cpuUsage()
          p1 = readCpuStat()
          before = server.stats().catch(() => false)
        }
        const due = Math.floor(((Math.min(now, tTo) - t0) * rate) / 1000)
        while (seq < due) {
          seq++
          // Rounded as it is written in the body, so that the window test below and the receiver agree.
          const tDue = Math.round((t0 + (seq * 1000) / rate) * 1000) / 1000
          const measured = tDue >= tFrom && tDue < tTo
          if (measured) inWindow++
          trig.fire(triggerBody(seq, tDue), tDue, measured ? (ms) => { httpMs.push(ms) } : undefined)
        }
        if (now >= tTo) {
          clearInterval(iv)
          resolve()
        }
      }, 1)
    })
    const wall2 = performance.now()
    const c2 = process.cpuUsage()
    const p2 = readCpuStat()
    const b = await server.stats()
    const a = await before

    if (!await trig.idle(30000)) invalid.push(`${trig.inflight} triggers unanswered 30 s after the step`)
    expected += trig.ok - ok0
    const drained = await waitDelivered(conns(), expected, 30000)
    if (!drained) warnings.push('deliveries still arriving 30 s after the last trigger')
    if (trig.errors > errors0) invalid.push(`${trig.errors - errors0} triggers failed (${trig.firstError})`)
    if (trig.wrongRecipients > wrong0) invalid.push(`${trig.wrongRecipients - wrong0} triggers answered a wrong recipients count (${trig.firstError})`)
    invalid.push(...deliveryProblems(conns(), expected, 'events'))
    if (server.crashed) invalid.push(`server exited (${server.exitCode})`)
    state.from = Infinity
    if (state.nLat !== inWindow * n && invalid.length === 0) invalid.push(`${state.nLat} latency samples, expected ${inWindow * n}`)

    const sorted = state.lat.subarray(0, state.nLat).sort()
    httpMs.sort((x, y) => x - y)
    const wallMs = wall2 - wall1
    const cores = cpuStatDelta(p1, p2)
    const serverCpuPct = a ? (serversCpuMs([a], [b]) / (b.now - a.now)) * 100 : NaN
    const clientCpuPct = ((c2.user - c1.user + c2.system - c1.system) / 1000 / wallMs) * 100
    const res = {
      variant,
      n,
      rate,
      triggers: inWindow,
      samples: state.nLat,
      p50: pct(sorted, 50),
      p90: pct(sorted, 90),
      p99: pct(sorted, 99),
      p999: pct(sorted, 99.9),
      max: sorted[sorted.length - 1],
      httpP50: pct(httpMs, 50),
      httpP99: pct(httpMs, 99),
      maxInflight: trig.maxInflight,
      serverCpuPct,
      clientCpuPct,
      cores,
      foreignPct: foreignLoad(cores, args.serverCpu, serverCpuPct, args.clientCpu, clientCpuPct),
      invalid,
      warnings
    }
    if (res.foreignPct > 10) warnings.push(`foreign load ${Math.round(res.foreignPct)}% of a core on the bench's CPUs`)
    if (clientCpuPct > 90) warnings.push(`load generator at ${Math.round(clientCpuPct)}% CPU`)
    res.valid = invalid.length === 0
    return res
  }

  const conns = () => r.conns
  return {
    step,
    async close () {
      trig.close()
      await server.stop()
      closeAll(r.conns)
      await sleep(300)
    }
  }
}

const line = (r, tag) =>
  `rep ${r.rep} ${tag.padEnd(11)} ${r.variant.padEnd(8)} ${String(r.rate).padStart(4)}/s x ${args.n}: ` +
  (r.p50 === undefined
    ? 'no measurement'
    : `p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)}, p99.9 ${fmt(r.p999, 2)}, max ${fmt(r.max, 1)} | http p50 ${fmt(r.httpP50, 2)} | ` +
      `samples ${r.samples} | server ${fmt(r.serverCpuPct)}% client ${fmt(r.clientCpuPct)}% foreign ${fmt(r.foreignPct)}%`)

async function fixedRate (variant, rate, rep, rec) {
  let ctx
  let r
  try {
    ctx = await setup(variant)
    r = await ctx.step(rate, args.warm, args.dur)
  } catch (err) {
    r = { variant, rate, valid: false, invalid: [`error: ${err.message}`], warnings: [] }
  } finally {
    await ctx?.close()
  }
  rec.add({ ...r, rep, kind: 'fixed', label: `${rate}/s` }, line({ ...r, rep }, 'fixed'))
}

/** Steps up the rate until p99 passes the threshold, then bisects `refine` times between the last pass and the first failure. */
async function rampUp (variant, rep, rec) {
  let ctx
  const steps = []
  const passes = (r) => r.valid && r.p99 <= args.threshold
  const run = async (rate) => {
    const r = await ctx.step(rate, args.rampWarm, args.rampDur)
    steps.push(r)
    rec.add({ ...r, rep, kind: 'ramp', label: `ramp ${rate}/s` }, line({ ...r, rep }, 'ramp'))
    await sleep(500)
    return r
  }
  let lastPass
  let firstFail
  try {
    ctx = await setup(variant)
    for (const rate of ramp) {
      const r = await run(rate)
      if (passes(r)) lastPass = rate
      else {
        firstFail = rate
        break
      }
    }
    for (let i = 0; i < args.refine && firstFail !== undefined && lastPass !== undefined && firstFail - lastPass > 5; i++) {
      // A fresh server and clients: the failed step may have left a backlog behind.
      await ctx.close()
      ctx = undefined
      ctx = await setup(variant)
      const mid = Math.round((lastPass + firstFail) / 2)
      if (passes(await run(mid))) lastPass = mid
      else firstFail = mid
    }
  } catch (err) {
    steps.push({ valid: false, invalid: [`error: ${err.message}`] })
  } finally {
    await ctx?.close()
  }
  const errors = steps.filter((s) => !s.valid && s.p99 === undefined)
  const result = {
    variant,
    rep,
    kind: 'threshold',
    label: 'p99 threshold',
    lastPass,
    firstFail,
    steps: steps.map((s) => ({ rate: s.rate, p99: s.p99, valid: s.valid })),
    invalid: errors.flatMap((s) => s.invalid),
    warnings: firstFail === undefined ? [`p99 stayed under ${args.threshold} ms up to ${ramp[ramp.length - 1]}/s: extend --ramp`] : []
  }
  result.valid = result.invalid.length === 0
  rec.add(result, `rep ${rep} threshold   ${variant.padEnd(8)}: p99 > ${args.threshold} ms at ${firstFail ?? '-'}/s (last under: ${lastPass ?? 'none'}/s)`)
}

runMain(async () => {
  checkBuild(variants, args.endpoint)
  requireOpenFiles(args.n + 1000)
  pinSelf(args.clientCpu)
  const rec = new Recorder('latency', args)
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const rate of rates) for (const v of rotate(variants, rep)) await fixedRate(v, rate, rep, rec)
    if (ramp.length > 0) for (const v of rotate(variants, rep)) await rampUp(v, rep, rec)
  }
  rec.finish(summary(rec.runs))
})

function summary (runs) {
  let out = `endpoint: ${args.endpoint}; N=${args.n}; fixed rates ${args.dur} s (+${args.warm} s warm-up), ${args.reps} reps\n`
  out += 'latency = receive time - time the trigger was due, over every delivery (ms); median [min..max] over valid runs\n'
  const targets = []
  if (rates.length > 0) {
    out += `\n## Trigger-to-receive latency, room of ${args.n}\n`
    const rows = []
    const fixed = runs.filter((r) => r.kind === 'fixed')
    for (const rate of rates) {
      const group = fixed.filter((r) => r.rate === rate)
      const same = (a, b) => a.rate === b.rate
      for (const v of variants) {
        const rs = group.filter((r) => r.variant === v)
        const ok = rs.filter((r) => r.valid)
        rows.push({
          'triggers/s': rate,
          variant: v,
          'p50 ms': range(ok.map((r) => r.p50), 2),
          'p99 ms': range(ok.map((r) => r.p99), 2),
          'p99.9 ms': range(ok.map((r) => r.p999), 2),
          'http p50 ms': range(ok.map((r) => r.httpP50), 2),
          'srv cpu%': range(ok.map((r) => r.serverCpuPct)),
          'foreign%': range(ok.map((r) => r.foreignPct)),
          valid: `${ok.length}/${rs.length}`,
          'p99 / socketio': v === 'socketio' ? '1' : range(ratios(group, 'p99', v, 'socketio', same), 2),
          'p99 / ws-frame': v === 'ws-frame' ? '1' : range(ratios(group, 'p99', v, 'ws-frame', same), 2)
        })
      }
      if (rate === 50 && variants.includes('product') && variants.includes('socketio')) {
        targets.push(targetLine('p99 at 50 triggers/s: product / socketio <= 1.1', ratios(group, 'p99', 'product', 'socketio', same), (x) => x <= 1.1))
      }
    }
    out += table(rows)
  }
  if (ramp.length > 0) {
    out += `\n## Trigger rate at which p99 passes ${args.threshold} ms (ramp: ${args.rampDur} s steps on one server)\n`
    const th = runs.filter((r) => r.kind === 'threshold')
    const rows = variants.map((v) => {
      const rs = th.filter((r) => r.variant === v)
      const ok = rs.filter((r) => r.valid)
      return {
        variant: v,
        'p99 > threshold at (triggers/s)': range(ok.map((r) => r.firstFail)),
        'last rate under': range(ok.map((r) => r.lastPass)),
        'msg/s at last rate under': range(ok.map((r) => (r.lastPass ?? NaN) * args.n)),
        valid: `${ok.length}/${rs.length}`,
        '/ socketio': v === 'socketio' ? '1' : range(ratios(th, 'firstFail', v, 'socketio'), 2)
      }
    })
    out += table(rows)
  }
  if (targets.length > 0) out += '\n## Targets (median of per-repetition ratios)\n' + targets.join('\n') + '\n'
  return out
}
