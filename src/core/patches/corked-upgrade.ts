// Patch of Engine.IO's websocket upgrade (engine.io 6.6.12, ws 8): the 101 answer and the open packet in one write.
import type { Duplex } from 'node:stream'
import type { Server } from 'socket.io'

/**
 * A websocket handshake writes twice to the TCP socket within one turn of the event loop: `ws` writes the 101
 * answer, then Engine.IO's handshake (after one `await` of its id generator) writes the open packet
 * (`0{"sid":...}`), each its own system call. The server sends nothing else until the client answers, so the two
 * can go out together. The socket is corked when Engine.IO is about to write the 101 (its `headers` event, which
 * it emits from its `ws` server's, for a request of the websocket transport), and uncorked at the first of:
 * - Engine.IO's `connection` event (it made its socket: the open packet is written);
 * - its `connection_error` event (a refusal after the 101, before it writes its answer and destroys the socket);
 * - the next `setImmediate` (the upgrade of a polling session, an id generator that takes longer), one for all the
 *   sockets corked in a turn of the event loop.
 * The client receives the same bytes in the same order: one `writev` instead of a `write` and a `writev`.
 *
 * Only the upgrades Engine.IO accepted are corked (refusals before the 101 are not), and only Engine.IO's: a
 * plugin's own WebSocket endpoint has its own `ws` server. (Engine.IO makes a new `ws` server when the HTTP server
 * starts listening, so the patch listens to Engine.IO, not to its `ws` server.)
 */
export function installCorkedUpgrade (io: Server): void {
  const engine = io.engine as unknown as EngineLike
  // The sockets corked and not yet uncorked: at most those of one turn of the event loop.
  const corked = new Set<Duplex>()
  let sweep: NodeJS.Immediate | undefined
  const uncork = (socket: Duplex | null | undefined): void => {
    if (socket === null || socket === undefined || !corked.delete(socket)) return
    socket.uncork()
  }
  const uncorkAll = (): void => {
    sweep = undefined
    for (const socket of corked) uncork(socket)
  }
  engine.on('headers', (_headers: unknown, request: unknown) => {
    const req = request as RequestLike
    if (req._query?.transport !== 'websocket') return
    const socket = req.socket
    if (socket === null || socket === undefined || typeof socket.cork !== 'function' || corked.has(socket)) return
    socket.cork()
    corked.add(socket)
    sweep ??= setImmediate(uncorkAll)
  })
  engine.on('connection', (conn: unknown) => { uncork((conn as { request?: RequestLike | null }).request?.socket) })
  engine.on('connection_error', (err: unknown) => { uncork((err as { req?: RequestLike | null }).req?.socket) })
}

interface RequestLike { socket?: Duplex | null, _query?: { transport?: string } }
interface EngineLike {
  on: ((event: 'headers', fn: (headers: unknown, req: unknown) => void) => void) &
    ((event: 'connection' | 'connection_error', fn: (arg: unknown) => void) => void)
}
