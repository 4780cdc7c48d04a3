// The health routes: /health (the process lives) and /ready (it accepts connections, Redis included).
import type { FastifyInstance } from 'fastify'
import type { Core } from './core.js'
import { clusterProblem } from './socketio.js'

const PING_TIMEOUT_MS = 1000

/**
 * `GET /health`: 200 while the process lives. `GET /ready`: 200 only when it accepts connections and, with
 * Redis, every connection of the adapter is up, its stream readers know where they start, and Redis
 * answers a PING: a node that is not ready would answer publishes with 503 (RT_ERR_NOT_READY).
 */
export function healthRoutes (app: FastifyInstance, core: Core): void {
  app.get('/health', { logLevel: 'warn' }, async () => ({ status: 'ok' }))

  app.get('/ready', { logLevel: 'warn' }, async (_request, reply) => {
    const problem = core.draining
      ? 'shutting down'
      : !app.server.listening
          ? 'not listening'
          : clusterProblem(core.io) ?? (core.redis !== undefined && !await answers(core.redis) ? 'redis unreachable' : undefined)
    if (problem !== undefined) return await reply.code(503).send({ status: 'unavailable', reason: problem })
    return { status: 'ready' }
  })
}

async function answers (redis: NonNullable<Core['redis']>): Promise<boolean> {
  if (redis.status !== 'ready') return false
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      redis.ping().then((r) => r === 'PONG'),
      new Promise<boolean>((resolve) => { timer = setTimeout(resolve, PING_TIMEOUT_MS, false) })
    ])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
