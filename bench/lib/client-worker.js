// A load-generator process of bench/curve.js (forked by lib/client-pool.js): it holds a share of the
// clients, bound to its own loopback source address (each address has its own ~28,000 ephemeral ports;
// each process at most the 20,000 open files of the hard limit), and counts, per trigger, the deliveries
// and the time of the last one on the machine's monotonic clock (lib/clock.js), so the parent can compute
// trigger -> last of N deliveries over every worker. Commands over IPC, each answered { id, ... }:
//   open { variant, ports, first, n, localAddress, concurrency, timeoutMs } -> { ok, failed, errors, ms }
//   reset                     -> zeroes the per-client and per-trigger counts (a new measurement)
//   totals                    -> { delivered, cpu } (events received since reset, process.cpuUsage())
//   deliveries { from, to }   -> { count[], last[] } for triggers from..to (count, last receive time)
//   wait { expected, timeoutMs } -> { done, missing, short, extra, lost } (every client got `expected` events)
//   close                     -> closes every client, then exits
import { closeAll, connectClients, deliveryCheck, waitDelivered } from './clients.js'
import { monoNow } from './clock.js'
import { seqOf } from './trigger.js'

const conns = []
let delivered = 0
let count = new Int32Array(1024)
let last = new Float64Array(1024)

function grow (seq) {
  let size = count.length
  while (size <= seq) size *= 2
  const c = new Int32Array(size)
  c.set(count)
  const l = new Float64Array(size)
  l.set(last)
  count = c
  last = l
}

function onMessage (_conn, buf, start, end) {
  const now = monoNow()
  const seq = seqOf(buf, start, end)
  if (seq >= count.length) grow(seq)
  delivered++
  count[seq]++
  if (now > last[seq]) last[seq] = now
}

async function handle (m) {
  switch (m.cmd) {
    case 'open': {
      const servers = m.ports.map((port) => ({ port }))
      const r = await connectClients({ variant: m.variant, servers, n: m.n, first: m.first, onMessage, concurrency: m.concurrency, timeoutMs: m.timeoutMs, localAddress: m.localAddress })
      conns.push(...r.conns.filter((c) => c !== undefined))
      return { ok: r.ok, failed: r.failed, errors: r.errors, ms: r.ms }
    }
    case 'reset':
      for (const c of conns) c.count = 0
      delivered = 0
      count.fill(0)
      last.fill(0)
      return {}
    case 'totals':
      return { delivered, cpu: process.cpuUsage() }
    case 'deliveries': {
      if (m.to >= count.length) grow(m.to)
      return { count: Array.from(count.subarray(m.from, m.to + 1)), last: Array.from(last.subarray(m.from, m.to + 1)) }
    }
    case 'wait': {
      const done = await waitDelivered(conns, m.expected, m.timeoutMs)
      return { done, ...deliveryCheck(conns, m.expected) }
    }
    case 'close':
      closeAll(conns)
      setTimeout(() => { process.exit(0) }, 50)
      return {}
    default:
      throw new Error(`unknown command ${m.cmd}`)
  }
}

process.on('message', (m) => {
  handle(m).then((r) => { process.send({ id: m.id, ...r }) }, (err) => { process.send({ id: m.id, error: String(err?.message ?? err) }) })
})
process.on('disconnect', () => { process.exit(0) })
