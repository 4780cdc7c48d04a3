// The load generator's client: a minimal, allocation-light WebSocket client on raw TCP, so that the
// client costs less per message than the server under test (socket.io-client costs about as much as
// the server: see ../README.md). Adapted from the perf-reference harness.
//  - mode 'ws' : plain WebSocket; every text frame is a message.
//  - mode 'sio': just enough of Engine.IO v4 / Socket.IO v5 over the websocket transport: on the open
//                packet "0{..}" it sends the namespace CONNECT "40" (+ auth JSON, e.g. {"token":..}),
//                answers pings "2" with "3", is ready on "40{..}", fails on "44{..}", counts "42[..]" events.
// Client->server frames use an all-zero masking key (valid on the wire; the server unmasks it like any
// other key), so the client never XORs a payload.
import net from 'node:net'
import { textFrame } from './frame.js'

const HDR_END = Buffer.from('\r\n\r\n')

/** A client-to-server text frame (zero masking key). */
export const maskedTextFrame = (str) => textFrame(str, true)

const FRAME_SIO_CONNECT = maskedTextFrame('40')
const FRAME_SIO_PONG = maskedTextFrame('3')
const FRAME_WS_PONG_EMPTY = Buffer.from([0x8a, 0x80, 0, 0, 0, 0])

class Conn {
  constructor (idx, opts) {
    this.idx = idx
    this.opts = opts
    /** Event messages received. */
    this.count = 0
    this.ready = false
    this.closed = false
    /** Set when the connection closed after it was ready (a lost client invalidates a run). */
    this.lostAt = 0
    this.leftover = null
    this.upgraded = false
    this.hdrBuf = null
    this.sock = null
  }
}

/**
 * Opens one connection.
 * opts: { host, port, localAddress (the source address, e.g. '127.0.0.2': each loopback address has its own
 *         ephemeral ports), path, mode: 'ws'|'sio', auth (object, sent in the CONNECT packet),
 *         onReady(conn), onMessage(conn, buf, start, end), onError(conn, err), onClose(conn) }
 */
export function open (idx, opts) {
  const c = new Conn(idx, opts)
  const sock = net.connect({ host: opts.host ?? '127.0.0.1', port: opts.port, localAddress: opts.localAddress })
  c.sock = sock
  sock.setNoDelay(true)
  sock.on('connect', () => {
    const key = Buffer.from(String(Math.random()).padEnd(16, '0').slice(0, 16)).toString('base64')
    sock.write(
      `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host ?? '127.0.0.1'}:${opts.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    )
  })
  sock.on('data', (chunk) => { onData(c, chunk) })
  sock.on('error', (err) => { if (!c.closed && opts.onError) opts.onError(c, err) })
  sock.on('close', () => { markClosed(c) })
  return c
}

function markClosed (c) {
  if (c.closed) return
  c.closed = true
  if (c.ready) c.lostAt = performance.now()
  if (c.opts.onClose) c.opts.onClose(c)
}

function onData (c, chunk) {
  if (!c.upgraded) {
    const buf = c.hdrBuf ? Buffer.concat([c.hdrBuf, chunk]) : chunk
    const end = buf.indexOf(HDR_END)
    if (end === -1) {
      c.hdrBuf = buf
      return
    }
    c.hdrBuf = null
    if (buf.toString('latin1', 0, 12) !== 'HTTP/1.1 101') {
      const line = buf.toString('latin1', 0, buf.indexOf('\r\n'))
      if (c.opts.onError) c.opts.onError(c, new Error('upgrade refused: ' + line))
      c.sock.destroy()
      return
    }
    c.upgraded = true
    if (c.opts.mode === 'ws') {
      c.ready = true
      if (c.opts.onReady) c.opts.onReady(c)
    }
    if (end + 4 === buf.length) return
    chunk = buf.subarray(end + 4)
  }
  let buf = chunk
  if (c.leftover !== null) {
    buf = Buffer.concat([c.leftover, chunk])
    c.leftover = null
  }
  const n = buf.length
  let off = 0
  while (off + 2 <= n) {
    const b0 = buf[off]
    let len = buf[off + 1] & 0x7f
    let hdr = 2
    if (len === 126) {
      if (off + 4 > n) break
      len = buf.readUInt16BE(off + 2)
      hdr = 4
    } else if (len === 127) {
      if (off + 10 > n) break
      len = buf.readUInt32BE(off + 6)
      hdr = 10
    }
    const start = off + hdr
    const end = start + len
    if (end > n) break
    off = end
    const opcode = b0 & 0x0f
    if (opcode === 1 || opcode === 2) onFrame(c, buf, start, end)
    else if (opcode === 9) c.sock.write(FRAME_WS_PONG_EMPTY)
    else if (opcode === 8) {
      c.sock.destroy()
      markClosed(c)
      return
    }
  }
  if (off < n) c.leftover = buf.subarray(off)
}

function onFrame (c, buf, start, end) {
  const o = c.opts
  if (o.mode === 'ws') {
    c.count++
    o.onMessage(c, buf, start, end)
    return
  }
  const t = buf[start] // Engine.IO packet type
  if (t === 0x34 /* '4' message */) {
    const s = buf[start + 1] // Socket.IO packet type
    if (s === 0x32 /* '2' EVENT */) {
      c.count++
      o.onMessage(c, buf, start, end)
    } else if (s === 0x30 /* '0' CONNECT ack */) {
      c.ready = true
      if (o.onReady) o.onReady(c)
    } else if (s === 0x34 /* '4' CONNECT_ERROR */) {
      if (o.onError) o.onError(c, new Error('connect_error ' + buf.toString('utf8', start, Math.min(end, start + 200))))
    }
  } else if (t === 0x32 /* '2' ping */) {
    c.sock.write(FRAME_SIO_PONG)
  } else if (t === 0x30 /* '0' open */) {
    c.sock.write(o.auth ? maskedTextFrame('40' + JSON.stringify(o.auth)) : FRAME_SIO_CONNECT)
  } else if (t === 0x31 /* '1' close */) {
    c.sock.destroy()
    markClosed(c)
  }
}

/** Closes a connection on purpose (not counted as lost). */
export function close (c) {
  if (c === undefined || c === null) return
  c.ready = false
  c.closed = true
  c.sock.destroy()
}

/**
 * Opens n connections with at most `concurrency` handshakes in flight. Resolves when every one is
 * ready or failed: { conns, ok, failed, timedOut, ms, errors }.
 * perConnOpts(i) may override options per connection (auth token, path, port).
 */
export function openMany (n, baseOpts, { concurrency = 200, perConnOpts, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    const conns = new Array(n)
    let started = 0
    let done = 0
    let failed = 0
    const errors = []
    const tStart = performance.now()
    let finished = false
    const timer = setTimeout(() => { finish(true) }, timeoutMs)
    function finish (timedOut) {
      if (finished) return
      finished = true
      clearTimeout(timer)
      resolve({ conns, ok: done - failed, failed: failed + (timedOut ? n - done : 0), timedOut, ms: performance.now() - tStart, errors })
    }
    function settle (c, err) {
      if (c._settled) return
      c._settled = true
      done++
      if (err) {
        failed++
        if (errors.length < 5) errors.push(String(err.message ?? err))
      }
      if (started < n) next()
      if (done === n) finish(false)
    }
    function next () {
      const i = started++
      const o = Object.assign({}, baseOpts, perConnOpts ? perConnOpts(i) : null)
      const userReady = o.onReady
      const userErr = o.onError
      const userClose = o.onClose
      o.onReady = (c) => {
        settle(c)
        if (userReady) userReady(c)
      }
      o.onError = (c, e) => {
        settle(c, e)
        if (userErr) userErr(c, e)
      }
      o.onClose = (c) => {
        if (!c._settled) settle(c, new Error('closed before ready'))
        if (userClose) userClose(c)
      }
      conns[i] = open(i, o)
    }
    for (let k = 0; k < Math.min(concurrency, n); k++) next()
    if (n === 0) finish(false)
  })
}
