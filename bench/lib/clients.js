// The load generator's clients: N authenticated connections spread over the servers of a run, and the
// checks that make a run invalid (a failed or lost connection, a missed or extra delivery).
import { tokenFor } from './credentials.js'
import { sleep } from './machine.js'
import { close, openMany } from './rawws.js'
import { clientOptions } from './servers.js'

/**
 * Opens n clients of `variant`, numbered first..first+n-1, client k on servers[k % servers.length], each with its
 * own JWT. onMessage(conn, buf, start, end) runs for every event received; localAddress binds the source address.
 */
export async function connectClients ({ variant, servers, n, onMessage = () => {}, concurrency = 200, first = 0, timeoutMs = 120000, localAddress }) {
  const co = clientOptions(variant)
  return await openMany(n, { mode: co.mode, onMessage, localAddress }, {
    concurrency,
    timeoutMs,
    perConnOpts: (i) => {
      const token = tokenFor(first + i)
      const o = { port: servers[(first + i) % servers.length].port, path: co.path(token) }
      if (co.auth !== undefined) o.auth = co.auth(token)
      return o
    }
  })
}

/** Counts clients whose deliveries differ from `expected` events, and clients lost after they were ready. */
export function deliveryCheck (conns, expected) {
  let missing = 0
  let short = 0
  let extra = 0
  let lost = 0
  for (const c of conns) {
    if (c === undefined) continue
    if (c.lostAt > 0) lost++
    if (c.count < expected) {
      short++
      missing += expected - c.count
    } else if (c.count > expected) extra++
  }
  return { missing, short, extra, lost }
}

/** Waits until every client got `expected` events (true) or timeoutMs passed (false). */
export async function waitDelivered (conns, expected, timeoutMs = 10000) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const d = deliveryCheck(conns, expected)
    if (d.missing === 0) return true
    if (performance.now() >= deadline) return false
    await sleep(50)
  }
}

/** The reasons a run is invalid, from its connection and delivery checks. */
export function deliveryProblems (conns, expected, what = 'events') {
  const d = deliveryCheck(conns, expected)
  const out = []
  if (d.lost > 0) out.push(`${d.lost} clients lost their connection`)
  if (d.missing > 0) out.push(`${d.missing} missed deliveries (${d.short} clients short of ${expected} ${what})`)
  if (d.extra > 0) out.push(`${d.extra} clients got more than ${expected} ${what}`)
  return out
}

export function closeAll (conns) {
  for (const c of conns) close(c)
}
