// Engine.IO writing what it flushes at once to a websocket connection in one system call (engine.io 6.6.12, ws 8.21.3).

/**
 * When a connection's transport is busy (a write not yet out), Engine.IO queues what is emitted to it, and
 * flushes the queue in one `send(packets)` once the write is out: the answers to a burst of client events, the
 * events of a busy room. Its websocket transport hands each packet to `ws`, which corks, writes and uncorks the
 * connection's `net.Socket` per frame: one `writev` system call per packet, each one a full trip through the
 * kernel's TCP stack. Answering 500 acknowledged events that arrived in one read took about 30 µs of server
 * CPU per event, against 4 µs for events without an acknowledgement (`bench/event-rate.js --ack`).
 *
 * `corkedFlush` wraps Engine.IO's `Socket.prototype.flush` of two packets or more on a websocket connection
 * in one cork of its `net.Socket`: `ws`'s own cork and uncork per frame nest inside it, so the frames leave in
 * one `writev` once the flush is done. The same bytes in the same order; the write callbacks (Engine.IO's
 * `drain` and `ready` after the last frame) run in the same order, once the one write is out. Frames `ws`
 * holds back (a sender busy with compression or a Blob) are written later, as before. A flush of one packet,
 * a polling connection and the connections of servers `ours` does not accept are flushed as before. The
 * transport's prototype and the sockets are left as they are: nothing is added per connection.
 */
export interface FlushingSocket {
  writeBuffer: readonly unknown[]
  server?: unknown
  transport?: { socket?: { _socket?: { cork?: unknown, uncork?: unknown } | null } | null }
}

export type Flush = (this: FlushingSocket) => void

const kCorked = Symbol('rt.corkedFlush')

/**
 * Replaces Engine.IO's `Socket.prototype.flush` with `corkedFlush` once per process; `ours` tells the servers it
 * acts for (the others are flushed as before).
 */
export function installCorkedFlush (engineSocketProto: object, ours: (server: unknown) => boolean): void {
  const proto = engineSocketProto as { flush?: Flush, [kCorked]?: true }
  const original = proto.flush
  if (proto[kCorked] === true || typeof original !== 'function') return
  proto.flush = corkedFlush(original, ours)
  proto[kCorked] = true
}

/** `flush`, with the connection corked around it when it writes two packets or more to a websocket of a server `ours` accepts. */
export function corkedFlush (original: Flush, ours: (server: unknown) => boolean): Flush {
  return function flush (this: FlushingSocket): void {
    if (this.writeBuffer.length < 2 || !ours(this.server)) {
      original.call(this)
      return
    }
    const sock = this.transport?.socket?._socket
    if (sock === undefined || sock === null || typeof sock.cork !== 'function' || typeof sock.uncork !== 'function') {
      original.call(this)
      return
    }
    const corked = sock as { cork: () => void, uncork: () => void }
    corked.cork()
    try {
      original.call(this)
    } finally {
      corked.uncork()
    }
  }
}
