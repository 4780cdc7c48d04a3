// The core's Socket.IO side, assembled: the namespace registry, and what every namespace gets when first used.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimitsOptions, PluginEntry } from '../config/schema.js'
import type { RealtimeError } from '../lib/errors.js'
import { createAuthenticator, type Authenticator } from './auth/authenticator.js'
import { handshakeMiddleware } from './auth/handshake.js'
import { SocketRefresh } from './auth/refresh.js'
import { socketExpiry } from './auth/socket-expiry.js'
import type { TokenVerifier } from './auth/tokens.js'
import { ClusterBus } from './cluster/bus.js'
import { ConnectionLimits } from './limits/connections.js'
import { EventLimits } from './limits/events.js'
import { MemoryBuckets, RedisBuckets, sharedLimits } from './limits/shared.js'
import type { Metrics } from './metrics/metrics.js'
import { Dispatcher } from './namespaces/dispatch.js'
import { NamespaceRegistry } from './namespaces/registry.js'
import { installCorkedUpgrade } from './patches/corked-upgrade.js'
import { installPlainQuery } from './patches/handshake-query.js'
import { installRequestRelease } from './patches/release-request.js'
import { installSharedListeners } from './patches/shared-listeners.js'
import { installHandshakeClock } from './patches/shared-strings.js'
import { Publisher } from './publish.js'
import { SocketLog } from './socket-logs.js'
import type { RealtimeServer, RealtimeSocket } from './socket-types.js'
import { TargetRooms } from './target-rooms.js'

export interface SocketCoreOptions {
  io: RealtimeServer
  verifier: TokenVerifier
  log: FastifyBaseLogger
  expiryGraceMs: number
  countTimeoutMs: number
  /** The config's `limits`, and its plugin entries (per-event limits). */
  limits: LimitsOptions
  plugins: Readonly<Record<string, PluginEntry>>
  /** Redis, for the limits counted across the cluster. */
  redis: Redis | undefined
  keyPrefix: string
  nodeId: string
  /** `server.logRepeatMs` and `socketio.maxHttpBufferSize`, for the socket log lines. */
  logRepeatMs: number
  maxFrameBytes: number
  metrics: Metrics
}

/** The parts of the Socket.IO side the plugin API reaches. */
export interface SocketCore {
  readonly registry: NamespaceRegistry
  readonly dispatch: Dispatcher
  readonly auth: Authenticator
  readonly bus: ClusterBus
  readonly publisher: Publisher
  readonly targetRooms: TargetRooms
  /** The event and connection limits; `close` stops their timers. */
  readonly limits: { readonly events: EventLimits, readonly connections: ConnectionLimits, close (): Promise<void> }
}

/**
 * Builds the Socket.IO side of the core. Every namespace, when first used (`/` at once), gets the handshake
 * authentication, the connection limits, the connection handling (core rooms, handlers, hooks, token expiry), the answers to the
 * other nodes' questions, and `auth:refresh`.
 */
export function createSocketCore (options: SocketCoreOptions): SocketCore {
  const { io, log } = options
  const registry = new NamespaceRegistry(io)
  // Keeps of each connection's upgrade request only what the handshakes read (about 1 kB a connection).
  installRequestRelease(io)
  // The 101 answer and the open packet of a websocket handshake in one write.
  installCorkedUpgrade(io)
  // The listeners of each connection's transport, Engine.IO socket and decoder: shared functions, not bound copies.
  const listeners = installSharedListeners(io)
  // A patch that does not find the code it was written for steps aside: one warning each, saying what runs instead.
  const patches: Array<[installed: boolean, patch: string, off: string]> = [
    [listeners.transport, 'shared-listeners', "off for transports, and corked-flush with them: Engine.IO's Socket.setTransport is not the code they were written for; Engine.IO's own listeners and flush are used"],
    [listeners.client, 'shared-listeners', "off for clients: Socket.IO's Client.setup and destroy are not the code they were written for; Socket.IO's own listeners are used"],
    [listeners.websocket, 'shared-listeners', "off for websocket transports: Engine.IO's websocket transport is not the code it was written for; Engine.IO's own constructor is used"],
    // The handshake's query string read without a URL when it is plain, and its time formatted once a second.
    [installPlainQuery(io.engine), 'handshake-query', "off: Engine.IO's prepare not found; Engine.IO reads each handshake's query with URL"],
    [installHandshakeClock(io), 'shared-strings', "handshake clock off: Socket.IO's buildHandshake is not the code it was written for; Socket.IO formats each handshake's time"]
  ]
  for (const [installed, patch, off] of patches) if (!installed) log.warn({ patch }, `${patch} ${off}`)
  const auth = createAuthenticator(options.verifier)
  const { metrics } = options
  const bus = new ClusterBus({ io, registry, log, countTimeoutMs: options.countTimeoutMs, onPartial: (question) => { metrics.clusterPartial.inc({ question }) } })
  const publisher = new Publisher({ registry, bus, log, metrics })
  const expiry = socketExpiry(registry, options.expiryGraceMs, log)
  const shared = sharedLimits(options.limits.events)
  const buckets = shared === undefined
    ? undefined
    : options.redis === undefined ? new MemoryBuckets(shared) : new RedisBuckets(options.redis, options.keyPrefix, shared, log)
  const events = new EventLimits({ limits: options.limits.events, plugins: options.plugins, shared: buckets })
  const connections = new ConnectionLimits({ limits: options.limits.connections, redis: options.redis, keyPrefix: options.keyPrefix, nodeId: options.nodeId, log })
  const socketLog = new SocketLog({ log, repeatMs: options.logRepeatMs, maxFrameBytes: options.maxFrameBytes })
  const dispatch = new Dispatcher({ registry, expiry, publish: publisher.publish, limits: events, log, socketLog, metrics })
  const refresh = new SocketRefresh({ auth, registry, dispatch, expiry })
  registry.prepare((entry) => {
    // One line and one count for every refusal, whichever middleware refuses: 'socket connection refused' with the catalog code.
    const name = entry.nsp.name
    const refused = (socket: RealtimeSocket, err: RealtimeError): void => {
      metrics.handshakeRefusals.inc({ namespace: name, code: err.code })
      socketLog.refused(socket, err)
    }
    entry.nsp.use(handshakeMiddleware(options.verifier, refused))
    entry.nsp.use(events.coolOffMiddleware(refused))
    entry.nsp.use(connections.middleware(refused))
    dispatch.attach(entry)
    bus.attach(entry)
    refresh.attach(entry)
  })
  const limits = {
    events,
    connections,
    async close () {
      buckets?.close()
      await connections.close()
    }
  }
  return { registry, dispatch, auth, bus, publisher, targetRooms: new TargetRooms(registry, bus), limits }
}
