// The publish path as users drive it: POST <endpoint> { type, tenantId, payload } with x-api-key,
// answered { eventId, recipients }. The same request goes to every variant.
import http from 'node:http'
import { API_KEY, TENANT } from './credentials.js'

export const EVENT_TYPE = 'order.updated'

// A ~200-byte event. "t" (the load generator's clock when the trigger was due) comes first so that a
// receiver finds it cheaply; the server adds the meta { eventId, timestamp } as the next argument.
const payloadTail =
  '"type":"order.updated","data":{"orderId":"ord_8f3a2b1c9d7e","status":"shipped","amount":12999,' +
  '"currency":"EUR","carrier":"DHL","updatedAt":"2024-05-01T12:34:56.789Z","by":"user_42"}}'

/** The request body of trigger `seq`, due at `t` (performance.now() of the load generator). */
export function triggerBody (seq, t) {
  return `{"type":"${EVENT_TYPE}","tenantId":"${TENANT}","payload":{"t":${t.toFixed(3)},"seq":${seq},${payloadTail}}`
}

const T_KEY = Buffer.from('"t":')

/** The `t` of a received event frame (buf[start..end] holds the Socket.IO packet or the raw frame text). */
export function stampOf (buf, start, end) {
  const i = buf.indexOf(T_KEY, start) + 4
  let j = i
  while (j < end && buf[j] !== 0x2c /* , */) j++
  return +buf.latin1Slice(i, j)
}

const SEQ_KEY = Buffer.from('"seq":')

/** The `seq` of a received event frame (the trigger's number in its run). */
export function seqOf (buf, start, end) {
  let i = buf.indexOf(SEQ_KEY, start) + 6
  let n = 0
  for (; i < end; i++) {
    const d = buf[i] - 0x30
    if (d < 0 || d > 9) break
    n = n * 10 + d
  }
  return n
}

export class TriggerClient {
  /** @param {{ port: number, path: string, maxSockets?: number, expectRecipients?: number }} o */
  constructor ({ port, path, maxSockets = 32, expectRecipients }) {
    this.port = port
    this.path = path
    this.agent = new http.Agent({ keepAlive: true, maxSockets })
    this.expectRecipients = expectRecipients
    this.sent = 0
    this.ok = 0
    this.errors = 0
    this.inflight = 0
    this.maxInflight = 0
    this.wrongRecipients = 0
    /** Answers flagged `partial`: a node did not report its count in time (the count, not the delivery, is short). */
    this.partialCounts = 0
    this.firstError = undefined
    this.idleWaiters = []
  }

  /** Sends one trigger; `done(ms)` runs when it was answered 2xx (ms since `t0`, if given). */
  fire (body, t0, done) {
    this.sent++
    this.inflight++
    if (this.inflight > this.maxInflight) this.maxInflight = this.inflight
    const req = http.request({
      host: '127.0.0.1',
      port: this.port,
      method: 'POST',
      path: this.path,
      agent: this.agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': API_KEY }
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.ok++
          if (this.expectRecipients !== undefined) {
            let r
            let partial = false
            try {
              const answer = JSON.parse(text)
              r = answer.recipients
              partial = answer.partial === true
            } catch {}
            if (partial) this.partialCounts++
            else if (r !== this.expectRecipients) {
              this.wrongRecipients++
              if (this.firstError === undefined) this.firstError = `recipients ${r}, expected ${this.expectRecipients}`
            }
          }
          if (done !== undefined) done(t0 === undefined ? 0 : performance.now() - t0)
        } else {
          this.errors++
          if (this.firstError === undefined) this.firstError = `HTTP ${res.statusCode} ${text.slice(0, 200)}`
        }
        this.#settled()
      })
    })
    req.on('error', (err) => {
      this.errors++
      if (this.firstError === undefined) this.firstError = err.message
      this.#settled()
    })
    req.end(body)
  }

  #settled () {
    this.inflight--
    if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Resolves when no request is in flight (or after timeoutMs). */
  idle (timeoutMs = 30000) {
    if (this.inflight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => { resolve(false) }, timeoutMs)
      this.idleWaiters.push(() => { clearTimeout(timer); resolve(true) })
    })
  }

  close () { this.agent.destroy() }
}
