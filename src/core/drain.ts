/** Graceful shutdown over HTTP: while draining every request gets an answer (503 + Connection: close), then the server closes. */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { IncomingMessage, Server } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Core } from './core.js'
import { NotReady } from '../lib/errors.js'

/** Routes that keep answering while draining: liveness stays 200, readiness answers its own 503. */
const PROBES = new Set(['/health', '/ready'])

/**
 * After the listener stops, how long a connection accepted just before may take to send its first request
 * (to get its 503) before it is closed as idle. Loopback and LAN clients send it within milliseconds.
 */
const FIRST_REQUEST_GRACE_MS = 1000

/**
 * While `core.draining`: requests other than the probes get 503 RT_ERR_NOT_READY (with Retry-After, from the
 * error handler), and every response says `Connection: close`, so a keep-alive client closes its connection
 * after the answer instead of sending the next request into a socket about to close. Fastify's own
 * `return503OnClosing` is off: its 503 has no catalog code and only starts once `close()` runs.
 */
export function drainHooks (app: FastifyInstance, core: Core): void {
  app.addHook('onRequest', function refuseWhileDraining (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (core.draining && !PROBES.has(request.routeOptions.url ?? '')) done(new NotReady('shutting down'))
    else done()
  })
  app.addHook('onSend', function closeWhileDraining (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) {
    if (core.draining) reply.header('connection', 'close')
    done(null, payload)
  })
}

/**
 * The shutdown sequence of `main.ts`:
 * 1. drain: keep listening `delayMs` (load balancers see /ready 503 and stop routing here), answering every
 *    request 503 + Connection: close; Socket.IO clients stay connected meanwhile;
 * 2. stop accepting (new connections are refused), but give connections already accepted the time to send
 *    their first request: Node's `server.close()` would destroy them as idle before it is read;
 * 3. `app.close()`: Socket.IO transports close (clients reconnect elsewhere), plugins' disconnect hooks, the
 *    adapters, the remaining idle keep-alive connections, Redis.
 */
export async function drainAndClose (app: FastifyInstance, core: Core, delayMs: number): Promise<void> {
  core.draining = true
  app.log.info({ delayMs }, 'draining')
  const server = app.server
  const unread = connectionsWithoutRequest(server)
  try {
    if (delayMs > 0) await sleep(delayMs)
    // net.Server's close stops the listener only; http.Server's also destroys idle connections at once.
    if (server.listening) NetServer.prototype.close.call(server)
    app.log.info('listener closed')
    await unread.settled(FIRST_REQUEST_GRACE_MS)
  } finally {
    unread.stop()
  }
  await app.close()
}

/** Connections accepted from now on that have not sent a request (or an upgrade) yet. */
function connectionsWithoutRequest (server: Server): { settled: (timeoutMs: number) => Promise<void>, stop: () => void } {
  const pending = new Set<Socket>()
  let wake: (() => void) | undefined
  const forget = (socket: Socket): void => {
    if (pending.delete(socket) && pending.size === 0) wake?.()
  }
  const onConnection = (socket: Socket): void => {
    pending.add(socket)
    socket.once('close', () => { forget(socket) })
  }
  const onRequest = (req: IncomingMessage): void => { forget(req.socket) }
  server.on('connection', onConnection)
  server.on('request', onRequest)
  server.on('upgrade', onRequest)
  return {
    async settled (timeoutMs) {
      if (pending.size === 0) return
      const ac = new AbortController()
      await Promise.race([
        new Promise<void>((resolve) => { wake = resolve }),
        sleep(timeoutMs, undefined, { signal: ac.signal }).catch(() => {})
      ])
      ac.abort()
    },
    stop () {
      server.off('connection', onConnection)
      server.off('request', onRequest)
      server.off('upgrade', onRequest)
    }
  }
}
