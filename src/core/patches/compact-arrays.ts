// Patch of two per-connection arrays of Engine.IO and Socket.IO (engine.io 6.6, socket.io 4.8) that keep 17 slots for one or two entries.
import type { Socket } from 'socket.io'

/**
 * V8 gives an empty array 17 slots on its first `push` (152 bytes of elements), and an array never gives them
 * back. Two arrays of every connection are pushed to once and then only read: Engine.IO's `cleanupFn` (the
 * one function that removes the transport's listeners, pushed by `setTransport`; an upgrade pushes one more)
 * and the Socket.IO decoder's `decoded` listener list (`component-emitter`'s `_callbacks.$decoded`, one
 * listener, the `Client`'s). Both are read through their owner's property every time (`clearTransport`
 * shifts `cleanupFn`; the emitter copies its list before calling), so replacing each with a copy of the
 * same entries (`slice`: as many slots as entries) changes nothing but their size: about 256 bytes of heap
 * per connection (`bench/profile/memory-snapshot.js`). Engine.IO's `sentCallbackFn` is left alone: every
 * flush (the heartbeat's ping included) pushes to it again.
 *
 * Called with each namespace socket (a connection's second namespace finds the arrays already compact and
 * copies them again, which costs two short slices); anything of another shape is left as it is.
 */
export function compactConnectionArrays (socket: Socket): void {
  const conn = socket.conn as unknown as { cleanupFn?: unknown }
  if (Array.isArray(conn.cleanupFn)) conn.cleanupFn = conn.cleanupFn.slice()
  const callbacks = (socket.client as unknown as { decoder?: { _callbacks?: Record<string, unknown> } }).decoder?._callbacks
  if (callbacks !== undefined && callbacks !== null && Array.isArray(callbacks.$decoded)) callbacks.$decoded = callbacks.$decoded.slice()
}
