// The Socket.IO server from the config, with the Redis streams adapter when Redis is configured.
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { Server, type ServerOptions } from 'socket.io'
import type { ServerConfig } from '../config/schema.js'
import { onDemand } from '../lib/on-demand.js'
import { ClusterLink } from './patches/cluster-link.js'
import { installFastBroadcast } from './patches/fast-broadcast.js'
import { StreamOffsets } from './patches/stream-offsets.js'
import { installSlowConsumerGuard } from './slow-consumers.js'
import type { RealtimeServer } from './socket-types.js'

/** Socket.IO server options from the config. */
export function socketOptions (config: ServerConfig): Partial<ServerOptions> {
  const s = config.socketio
  const origins = s.cors.origins
  return {
    path: s.path,
    pingInterval: s.pingInterval,
    pingTimeout: s.pingTimeout,
    connectTimeout: s.connectTimeout,
    maxHttpBufferSize: s.maxHttpBufferSize,
    transports: s.transports as ServerOptions['transports'],
    serveClient: false,
    // Upgrades on other paths (a plugin's own WebSocket endpoint) may take a JWKS fetch before answering;
    // Engine.IO ends unanswered foreign upgrades after this long.
    destroyUpgradeTimeout: 10_000,
    cors: origins.length === 0 ? undefined : { origin: origins.includes('*') ? true : [...origins], credentials: s.cors.credentials },
    connectionStateRecovery: s.connectionStateRecovery.enabled
      // Middlewares run on recovery too: a recovered socket is authenticated again.
      ? { maxDisconnectionDuration: s.connectionStateRecovery.maxDisconnectionDurationMs, skipMiddlewares: false }
      : undefined
  }
}

const clusters = new WeakMap<Server, { link: ClusterLink, offsets: StreamOffsets }>()

/** The Redis link of a server's adapter; undefined without Redis. */
export function clusterLinkOf (io: Server): ClusterLink | undefined {
  return clusters.get(io)?.link
}

/** Why the adapter cannot take part in the cluster now (Redis, a reader without its offset); undefined when it can. */
export function clusterProblem (io: Server): string | undefined {
  const c = clusters.get(io)
  if (c === undefined) return undefined
  if (!c.link.connected) return 'redis unreachable'
  if (!c.offsets.ready) return 'stream readers starting'
  return undefined
}

/**
 * Creates the Socket.IO server on Fastify's HTTP server (the core's own small replacement for
 * fastify-socket.io, which supports Fastify 4 only), with the Redis streams adapter when Redis is
 * configured. Sockets are closed in `preClose`, before Fastify closes the HTTP server; `beforeAdapterClose`
 * runs between the two (pending disconnect hooks).
 */
export function createSocketServer (app: FastifyInstance, config: ServerConfig, redis: Redis | undefined, beforeAdapterClose: () => Promise<void>): RealtimeServer {
  const io: RealtimeServer = new Server(app.server, socketOptions(config))
  if (redis !== undefined) {
    const prefix = config.redis.keyPrefix
    const a = config.redis.adapter
    const offsets = new StreamOffsets()
    const link = new ClusterLink(redis, (reader) => offsets.stable(reader))
    const { createAdapter } = onDemand('@socket.io/redis-streams-adapter') as typeof import('@socket.io/redis-streams-adapter')
    clusters.set(io, { link, offsets })
    io.adapter(link.track(createAdapter(link.client, {
      streamName: `${prefix}:sio:stream`,
      channelPrefix: `${prefix}:sio`,
      sessionKeyPrefix: `${prefix}:sio:session:`,
      blockTimeInMs: a.blockTimeInMs,
      maxLen: a.maxLen,
      readCount: a.readCount
    })))
  }
  const bound = installSlowConsumerGuard(io, { maxBufferedBytes: config.socketio.maxBufferedBytes, log: app.log })
  if (config.socketio.fastBroadcast) installFastBroadcast(io, { log: app.log, bound })
  app.addHook('preClose', async () => {
    // Closing the transports (not a Socket.IO `disconnect` packet) lets clients reconnect to another node.
    const connections = io.engine.clientsCount
    io.engine.close()
    await beforeAdapterClose()
    await Promise.allSettled([...io._nsps.values()].map(async (nsp) => { await nsp.adapter.close() }))
    clusters.get(io)?.link.close()
    app.log.info({ connections }, 'sockets closed')
  })
  return io
}
