// The core's shared state (the `Core` object) and the symbol under which the root instance holds it.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { ServerConfig } from '../config/schema.js'
import type { RestAuthenticator } from './auth/rest-auth.js'
import type { TokenVerifier } from './auth/tokens.js'
import type { ClusterView } from './cluster/cluster-view.js'
import type { Metrics } from './metrics/metrics.js'
import type { SocketCore } from './socket-core.js'
import type { SharedStore } from './store/types.js'
import type { RealtimeServer } from './socket-types.js'
import type { Webhooks } from './webhooks/webhooks.js'

/**
 * The core's shared state, reachable by the plugin API (never imported by plugins). The Socket.IO side
 * (`SocketCore`): `registry`, `dispatch`, `auth` (the token checks of every connection transport), `bus`,
 * `publisher`, `targetRooms`.
 */
export interface Core extends SocketCore {
  readonly config: Readonly<ServerConfig>
  readonly log: FastifyBaseLogger
  readonly io: RealtimeServer
  readonly rest: RestAuthenticator
  readonly verifier: TokenVerifier
  readonly nodeId: string
  /** Started with NODE_ENV=production. */
  readonly production: boolean
  /** The store root (keys prefixed with `redis.keyPrefix`). */
  readonly store: SharedStore
  readonly redis: Redis | undefined
  readonly clustered: boolean
  /** Values plugins provide to the plugins that depend on them. */
  readonly provided: Map<string, unknown>
  /** Questions to every node (a user's sockets, each node's counts): the control routes and the inspector ask them. */
  readonly clusterView: ClusterView
  /** The server's metrics registry and counters (`GET /metrics`). */
  readonly metrics: Metrics
  /** Events for the backends' endpoints (`webhooks`): queued in Redis when configured. */
  readonly webhooks: Webhooks
  /** True once shutdown began: /ready answers 503. */
  draining: boolean
}

/** The decorator under which the root instance holds the core; a symbol, so plugins cannot reach it by name. */
export const kCore = Symbol.for('realtime-server.core')
