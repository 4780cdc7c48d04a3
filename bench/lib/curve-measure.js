// One measurement of bench/curve.js on servers whose clients are already connected (lib/client-pool.js):
// REST triggers to the tenant at a fixed delivered rate (open loop: each trigger's due time is scheduled and
// stamped into its payload on the machine's monotonic clock, lib/clock.js), then, over the measurement window,
// the servers' CPU per delivered message and, per trigger due in the window, the time from its due time to
// the LAST of its deliveries over every client worker.
import { cpuStatDelta, foreignLoad, readCpuStat, sleep } from './machine.js'
import { monoNow } from './clock.js'
import { serversCpuMs } from './servers.js'
import { TriggerClient, triggerBody } from './trigger.js'

/** The p-th percentile (0-100) of an ascending array (nearest rank, as latency.js). */
export function percentile (sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/**
 * o: { servers (started, in node order), shares (clients per server), pool, rate (delivered msg/s), maxTriggerRate,
 *      warm, dur, minTriggers, serverCpu, clientCpu }
 * Triggers go to the servers in turn. -> { valid, invalid[], warnings[], triggerRate, msgsPerSec, cpuUsPerMsg,
 * serverCpuPct, perNode[{ cpuUsPerMsg, cpuPercent }], lastDeliveryMs { p50, p99, max }, triggersMeasured, clientCpuPct, foreignPct, cores }
 */
export async function measureAtRate (o) {
  const { servers, shares, pool } = o
  const size = shares.reduce((a, b) => a + b, 0)
  const invalid = []
  const warnings = []
  const bps = Math.min(o.rate / size, o.maxTriggerRate)
  const durS = Math.max(o.dur, o.minTriggers / bps)
  await pool.reset()
  const trigs = servers.map((s) => new TriggerClient({ port: s.port, path: s.triggerPath, maxSockets: 64, expectRecipients: size }))
  const due = (seq) => t0 + (seq * 1000) / bps
  let seq = 0
  let running = true
  const t0 = monoNow()
  const driver = setInterval(() => {
    if (!running) return
    const target = Math.min(Math.floor(((monoNow() - t0) * bps) / 1000), seq + Math.ceil(bps / 50))
    while (seq < target) {
      seq++
      trigs[seq % trigs.length].fire(triggerBody(seq, due(seq)))
    }
  }, 2)
  try {
    await sleep(o.warm * 1000)
    const s1 = await Promise.all(servers.map((s) => s.stats()))
    const tot1 = await pool.totals()
    const f1 = seq
    const c1 = process.cpuUsage()
    const p1 = readCpuStat()
    const w1 = monoNow()
    await sleep(durS * 1000)
    const s2 = await Promise.all(servers.map((s) => s.stats()))
    const tot2 = await pool.totals()
    const f2 = seq
    const c2 = process.cpuUsage()
    const p2 = readCpuStat()
    const w2 = monoNow()
    running = false
    clearInterval(driver)

    // Every answered trigger must reach every client before the figures count.
    const idle = await Promise.all(trigs.map((t) => t.idle(60000)))
    if (!idle.every(Boolean)) invalid.push('triggers still unanswered 60 s after the run')
    const sum = (k) => trigs.reduce((a, t) => a + t[k], 0)
    const ok = sum('ok')
    const w = await pool.wait(ok, Math.max(15000, durS * 1000))
    if (sum('errors') > 0) invalid.push(`${sum('errors')} of ${sum('sent')} triggers failed (${trigs.find((t) => t.firstError)?.firstError})`)
    if (sum('wrongRecipients') > 0) invalid.push(`${sum('wrongRecipients')} triggers answered a wrong recipients count (${trigs.find((t) => t.firstError)?.firstError})`)
    if (sum('partialCounts') > 0) warnings.push(`${sum('partialCounts')} triggers answered a partial recipients count`)
    if (w.lost > 0) invalid.push(`${w.lost} clients lost their connection`)
    if (w.missing > 0) invalid.push(`${w.missing} missed deliveries (${w.short} clients short of ${ok} events)`)
    if (w.extra > 0) invalid.push(`${w.extra} clients got more than ${ok} events`)
    for (const s of servers) if (s.crashed) invalid.push(`server ${s.variant} exited (${s.exitCode})`)

    const wallMs = w2 - w1
    const msgs = tot2.delivered - tot1.delivered
    const cpuMs = serversCpuMs(s1, s2)
    const srvMs = s2[0].now - s1[0].now
    const serverCpuPct = (cpuMs / srvMs) * 100
    const clientCpuMs = tot2.cpuMs - tot1.cpuMs + (c2.user - c1.user + c2.system - c1.system) / 1000
    const clientCpuPct = (clientCpuMs / wallMs) * 100
    const cores = cpuStatDelta(p1, p2)
    const fired = (f2 - f1) * size
    if (msgs < 0.9 * fired) invalid.push(`delivered ${msgs} of ${fired} messages triggered in the window: the server did not keep up`)

    // Trigger -> last delivery, for the triggers due in the window (all of their deliveries arrived: checked above).
    const lastDelivery = []
    if (f2 > f1) {
      const d = await pool.deliveries(f1 + 1, f2)
      for (let i = 0; i < d.count.length; i++) {
        if (d.count[i] === size) lastDelivery.push(d.last[i] - due(f1 + 1 + i))
      }
      if (lastDelivery.length < d.count.length) invalid.push(`${d.count.length - lastDelivery.length} triggers of the window did not reach all ${size} clients`)
    }
    lastDelivery.sort((a, b) => a - b)
    const res = {
      size,
      triggerRate: bps,
      targetMsgsPerSec: bps * size,
      durS,
      triggersMeasured: lastDelivery.length,
      msgsPerSec: (msgs / wallMs) * 1000,
      cpuUsPerMsg: (cpuMs * 1000) / msgs,
      serverCpuPct,
      perNode: servers.map((s, k) => {
        const ms = serversCpuMs([s1[k]], [s2[k]])
        const nodeMsgs = (msgs * shares[k]) / size // each client receives every trigger
        return { cpuUsPerMsg: (ms * 1000) / nodeMsgs, cpuPercent: (ms / (s2[k].now - s1[k].now)) * 100 }
      }),
      lastDeliveryMs: { p50: percentile(lastDelivery, 50), p99: percentile(lastDelivery, 99), max: lastDelivery.at(-1) ?? NaN },
      clientCpuPct,
      clientUsPerMsg: (clientCpuMs * 1000) / msgs,
      cores,
      foreignPct: foreignLoad(cores, o.serverCpu, serverCpuPct, o.clientCpu, clientCpuPct),
      invalid,
      warnings
    }
    if (Math.abs(res.msgsPerSec - res.targetMsgsPerSec) > 0.05 * res.targetMsgsPerSec) warnings.push(`delivered ${Math.round(res.msgsPerSec)} msg/s instead of ${Math.round(res.targetMsgsPerSec)}`)
    if (clientCpuPct > 90) warnings.push(`load generator at ${Math.round(clientCpuPct)}% CPU: the figure may be the client's limit`)
    if (res.foreignPct > 10) warnings.push(`foreign load ${Math.round(res.foreignPct)}% of a core on the bench's CPUs`)
    res.valid = invalid.length === 0
    return res
  } finally {
    running = false
    clearInterval(driver)
    for (const t of trigs) t.close()
  }
}
