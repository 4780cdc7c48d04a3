// Token expiry of Socket.IO sockets: `auth:expired` when a token passes, the namespace socket closed when the grace ends.
import type { FastifyBaseLogger } from 'fastify'
import { ExpiryWheel } from './expiry.js'
import type { NamespaceRegistry } from '../namespaces/registry.js'
import type { RealtimeSocket } from '../socket-types.js'

/** The expiry wheel of the core's sockets; `auth:expired` { expiredAt, graceMs }, `expiredAt` in the namespace's time format. */
export function socketExpiry (registry: NamespaceRegistry, graceMs: number, log: FastifyBaseLogger): ExpiryWheel<RealtimeSocket> {
  const expiry: ExpiryWheel<RealtimeSocket> = new ExpiryWheel<RealtimeSocket>(graceMs, {
    expired: (socket) => {
      const ms = (socket.data.user.exp ?? 0) * 1000
      socket.emit('auth:expired', { expiredAt: registry.time(socket.nsp.name, ms), graceMs: expiry.graceMs })
    },
    // This namespace socket only: the connection and its other namespaces stay (`disconnect(true)` would
    // close them all, with a reason the client never retries).
    ended: (socket) => { socket.disconnect() }
  }, (err) => { log.error({ err }, 'token expiry failed') })
  return expiry
}
