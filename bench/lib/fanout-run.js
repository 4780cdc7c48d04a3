// One fanout run (scenarios 1 and 5): fresh server(s) of one variant, N authenticated clients in one
// tenant, REST triggers to the tenant, deliveries counted per client.
//   mode 'rate'   : open loop, `rate` delivered msg/s (rate / N triggers per second): CPU per message
//   mode 'window' : closed loop, at most `window` triggers not yet delivered to EVERY client: max msg/s
// With nodes = 2 the clients are split between two servers sharing Redis and every trigger goes to
// the first one, so half of the deliveries cross nodes.
import { closeAll, connectClients, deliveryProblems, waitDelivered } from './clients.js'
import { cpuStatDelta, foreignLoad, readCpuStat, sleep } from './machine.js'
import { redisRun } from './redis.js'
import { serversCpuMs, startServer } from './servers.js'
import { TriggerClient, triggerBody } from './trigger.js'

const RING = 1 << 16
const RMASK = RING - 1

/**
 * o: { variant, n, nodes, mode, rate, window, warm, dur, serverCpus[], clientCpu, endpoint, redisUrl }
 * -> a run record { valid, invalid[], warnings[], msgsPerSec, serverUsPerMsg, ... }
 */
export async function fanoutRun (o) {
  const { variant, n, nodes = 1, mode, warm, dur } = o
  const invalid = []
  const warnings = []
  const redis = nodes > 1 ? redisRun(o.redisUrl) : undefined
  const servers = []
  let conns = []
  let trig
  try {
    for (let k = 0; k < nodes; k++) {
      servers.push(await startServer({ variant, cpu: o.serverCpus[k % o.serverCpus.length], endpoint: o.endpoint, redis }))
    }
    const before = await Promise.all(servers.map((s) => s.stats()))

    // Deliveries: per client (c.count), in total and per node; the ring tracks, for the closed loop,
    // the highest event index every client has received ("level").
    const perNode = new Float64Array(nodes)
    const reach = mode === 'window' ? new Int32Array(RING) : undefined
    let delivered = 0
    let level = 0
    let kickPending = false
    let kick = () => {}
    const onMessage = (c) => {
      delivered++
      perNode[c.idx % nodes]++
      if (reach !== undefined) {
        const slot = c.count & RMASK
        if (++reach[slot] === n) {
          reach[slot] = 0
          level = c.count
          if (!kickPending) {
            kickPending = true
            setImmediate(() => { kickPending = false; kick() })
          }
        }
      }
    }
    const r = await connectClients({ variant, servers, n, onMessage })
    conns = r.conns
    const connectMs = r.ms
    if (r.failed > 0) {
      invalid.push(`${r.failed} of ${n} connections failed (${r.errors.slice(0, 2).join('; ')})`)
      return { variant, n, nodes, mode, valid: false, invalid, warnings }
    }
    await sleep(300)
    const connected = await Promise.all(servers.map((s) => s.stats()))
    for (let k = 0; k < nodes; k++) {
      const expected = Math.floor(n / nodes) + (k < n % nodes ? 1 : 0)
      const seen = connected[k].fds - before[k].fds
      if (seen < expected) invalid.push(`server ${k + 1} holds ${seen} sockets, expected ${expected}`)
    }

    // Every trigger goes to the first node; the product and Socket.IO count recipients on every node.
    const expectRecipients = variant === 'ws-frame' && nodes > 1 ? undefined : n
    trig = new TriggerClient({ port: servers[0].port, path: servers[0].triggerPath, maxSockets: mode === 'window' ? o.window + 4 : 64, expectRecipients })
    let running = true
    let seq = 0
    const t0 = performance.now()
    const totalMs = (warm + dur) * 1000
    let stalled = false
    let driver
    if (mode === 'window') {
      let lastLevel = 0
      let lastProgress = t0
      kick = () => {
        if (!running) return
        while (trig.sent - level < o.window) trig.fire(triggerBody(++seq, performance.now()))
      }
      kick()
      driver = setInterval(() => {
        const now = performance.now()
        if (level !== lastLevel) {
          lastLevel = level
          lastProgress = now
        } else if (now - lastProgress > 10000) {
          stalled = true
        }
      }, 100)
    } else {
      const bps = o.rate / n
      driver = setInterval(() => {
        if (!running) return
        const el = performance.now() - t0
        const due = Math.min(Math.floor((el * bps) / 1000), seq + Math.ceil(bps / 50))
        while (seq < due) {
          seq++
          trig.fire(triggerBody(seq, t0 + (seq * 1000) / bps))
        }
      }, 2)
    }

    await sleep(warm * 1000)
    const s1 = await Promise.all(servers.map((s) => s.stats()))
    const f1 = seq
    const d1 = delivered
    const pn1 = Float64Array.from(perNode)
    const t1 = performance.now()
    const c1 = process.cpuUsage()
    const p1 = readCpuStat()
    await sleep(Math.max(0, t0 + totalMs - performance.now()))
    const s2 = await Promise.all(servers.map((s) => s.stats()))
    const d2 = delivered
    const f2 = seq
    const t2 = performance.now()
    const c2 = process.cpuUsage()
    const p2 = readCpuStat()
    running = false
    clearInterval(driver)

    // Let every answered trigger reach every client, then check.
    if (!await trig.idle(30000)) invalid.push(`${trig.inflight} triggers still unanswered 30 s after the run`)
    const drained = await waitDelivered(conns, trig.ok, 15000)
    if (!drained) warnings.push('deliveries still arriving 15 s after the last trigger')
    if (stalled) invalid.push('the closed loop stalled (no trigger delivered to every client for 10 s)')
    if (trig.errors > 0) invalid.push(`${trig.errors} of ${trig.sent} triggers failed (${trig.firstError})`)
    if (trig.wrongRecipients > 0) invalid.push(`${trig.wrongRecipients} triggers answered a wrong recipients count (${trig.firstError})`)
    if (trig.partialCounts > 0) warnings.push(`${trig.partialCounts} triggers answered a partial recipients count (a node did not answer in time)`)
    invalid.push(...deliveryProblems(conns, trig.ok, 'events'))
    for (const s of servers) if (s.crashed) invalid.push(`server ${s.variant} exited (${s.exitCode})`)

    const wallMs = t2 - t1
    const msgs = d2 - d1
    const cpuMs = serversCpuMs(s1, s2)
    const clientCpuMs = (c2.user - c1.user + c2.system - c1.system) / 1000
    const cores = cpuStatDelta(p1, p2)
    const serverCpuPct = (cpuMs / (s2[0].now - s1[0].now)) * 100 // on the server's clock
    const clientCpuPct = (clientCpuMs / wallMs) * 100
    const res = {
      variant,
      n,
      nodes,
      mode,
      targetRate: mode === 'rate' ? o.rate : undefined,
      window: mode === 'window' ? o.window : undefined,
      connectMs: Math.round(connectMs),
      triggers: trig.ok,
      msgsPerSec: (msgs / wallMs) * 1000,
      crossNodeMsgsPerSec: nodes > 1 ? ((perNode[1] - pn1[1]) / wallMs) * 1000 : undefined,
      triggersPerSec: (msgs / n / wallMs) * 1000,
      serverCpuPct,
      serverCpuPctByNode: s1.map((a, k) => (serversCpuMs([a], [s2[k]]) / (s2[k].now - a.now)) * 100),
      serverUsPerMsg: (cpuMs * 1000) / msgs,
      serverElu: s1.map((a, k) => {
        const b = s2[k]
        return (b.elu.active - a.elu.active) / (b.elu.idle + b.elu.active - a.elu.idle - a.elu.active)
      }),
      clientCpuPct,
      clientUsPerMsg: (clientCpuMs * 1000) / msgs,
      serverRssMB: s2.map((s) => s.mem.rss / 1048576),
      cores,
      foreignPct: foreignLoad(cores, o.serverCpus[0], serverCpuPct, o.clientCpu, clientCpuPct),
      maxInflight: trig.maxInflight,
      valid: true,
      invalid,
      warnings
    }
    if (mode === 'rate') {
      // The server kept up when what it delivered in the window matches what was triggered in it.
      const fired = (f2 - f1) * n
      if (msgs < 0.9 * fired) invalid.push(`delivered ${msgs} of ${fired} messages triggered in the window: the server did not keep up`)
      if (Math.abs(res.msgsPerSec - o.rate) > 0.03 * o.rate) warnings.push(`delivered ${Math.round(res.msgsPerSec)} msg/s instead of ${o.rate}`)
    }
    if (clientCpuPct > 90) warnings.push(`load generator at ${Math.round(clientCpuPct)}% CPU: the figure may be the client's limit`)
    if (res.foreignPct > 10) warnings.push(`foreign load ${Math.round(res.foreignPct)}% of a core on the bench's CPUs`)
    res.valid = invalid.length === 0
    return res
  } catch (err) {
    invalid.push(`error: ${err.message}`)
    return { variant, n, nodes, mode, valid: false, invalid, warnings }
  } finally {
    trig?.close()
    await Promise.all(servers.map((s) => s.stop()))
    closeAll(conns)
    await redis?.cleanup()
    await sleep(300)
  }
}
