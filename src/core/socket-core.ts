// The core's Socket.IO side, assembled: the namespace registry, and what every namespace gets when first used.
import type { FastifyBaseLogger } from 'fastify'
import { createAuthenticator, type Authenticator } from './auth/authenticator.js'
import { handshakeMiddleware } from './auth/handshake.js'
import { SocketRefresh } from './auth/refresh.js'
import { socketExpiry } from './auth/socket-expiry.js'
import type { TokenVerifier } from './auth/tokens.js'
import { ClusterBus } from './cluster/bus.js'
import { Dispatcher } from './namespaces/dispatch.js'
import { NamespaceRegistry } from './namespaces/registry.js'
import { Publisher } from './publish.js'
import type { RealtimeServer } from './socket-types.js'
import { TargetRooms } from './target-rooms.js'

export interface SocketCoreOptions {
  io: RealtimeServer
  verifier: TokenVerifier
  log: FastifyBaseLogger
  expiryGraceMs: number
  countTimeoutMs: number
}

/** The parts of the Socket.IO side the plugin API reaches. */
export interface SocketCore {
  readonly registry: NamespaceRegistry
  readonly dispatch: Dispatcher
  readonly auth: Authenticator
  readonly bus: ClusterBus
  readonly publisher: Publisher
  readonly targetRooms: TargetRooms
}

/**
 * Builds the Socket.IO side of the core. Every namespace, when first used (`/` at once), gets the handshake
 * authentication, the connection handling (core rooms, handlers, hooks, token expiry), the answers to the
 * other nodes' questions, and `auth:refresh`.
 */
export function createSocketCore (options: SocketCoreOptions): SocketCore {
  const { io, log } = options
  const registry = new NamespaceRegistry(io)
  const auth = createAuthenticator(options.verifier)
  const bus = new ClusterBus({ io, registry, log, countTimeoutMs: options.countTimeoutMs })
  const publisher = new Publisher({ registry, bus, log })
  const expiry = socketExpiry(registry, options.expiryGraceMs, log)
  const dispatch = new Dispatcher({ registry, expiry, publish: publisher.publish, log })
  const refresh = new SocketRefresh({ auth, registry, dispatch, expiry })
  registry.prepare((entry) => {
    const name = entry.nsp.name
    entry.nsp.use(handshakeMiddleware(auth, (socket, err) => {
      log.info({ nsp: name, socketId: socket.id, code: err.code, reason: err.cause }, 'socket authentication refused')
    }))
    dispatch.attach(entry)
    bus.attach(entry)
    refresh.attach(entry)
  })
  return { registry, dispatch, auth, bus, publisher, targetRooms: new TargetRooms(registry, bus) }
}
