// GET /metrics: on the main port behind metrics.token, and/or on a listener of its own (metrics.port) without credential.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { MetricsOptions } from '../../config/schema.js'
import { MetricsDisabled, MetricsUnauthorized } from '../../lib/errors.js'
import { bearerToken } from '../auth/credentials.js'
import { UNMATCHED_ROUTE } from './catalog.js'
import type { Metrics } from './metrics.js'

export const METRICS_PATH = '/metrics'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Compares a presented credential with the configured one in constant time (both hashed to one length). */
function tokenMatches (presented: string | undefined, expected: Buffer): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), expected)
}

/**
 * Registers `/metrics` on the main port, the counting of HTTP requests, and the metrics listener when
 * `metrics.port` is set (started in onReady, so that a port in use fails the start, closed in onClose).
 * Without `token` the main port answers RT_ERR_METRICS_DISABLED naming how to enable it: nothing is
 * exposed by default.
 */
export function metricsEndpoint (app: FastifyInstance, options: MetricsOptions, metrics: Metrics): void {
  const requests = metrics.httpRequests
  if (options.enabled) {
    app.addHook('onResponse', function countRequest (request: FastifyRequest, reply: FastifyReply, done: () => void) {
      requests.inc({ route: request.routeOptions.url ?? UNMATCHED_ROUTE, method: request.method, status: String(reply.statusCode) })
      done()
    })
  }

  const expected = options.enabled && options.token !== undefined ? digest(options.token) : undefined
  app.get(METRICS_PATH, { logLevel: 'warn' }, async (request, reply) => {
    if (expected === undefined) {
      throw new MetricsDisabled(!options.enabled
        ? 'metrics.enabled is false'
        : options.port !== undefined ? `they are served on the metrics port (metrics.port ${options.port})` : 'set metrics.token (METRICS_TOKEN) or metrics.port (METRICS_PORT)')
    }
    if (!tokenMatches(bearerToken(request.headers.authorization), expected)) throw new MetricsUnauthorized('GET /metrics needs Authorization: Bearer <metrics.token>')
    const text = await metrics.text()
    return await reply.type(metrics.registry.contentType).send(text)
  })

  if (!options.enabled || options.port === undefined) return
  const port = options.port
  let server: Server | undefined
  app.addHook('onReady', async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (req.method !== 'GET' || path !== METRICS_PATH) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${METRICS_PATH} is served here\n`)
        return
      }
      metrics.text().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text)
      }, (err: unknown) => {
        app.log.error({ err }, 'metrics collection failed')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
      })
    })
    const listening = server
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject)
      listening.listen(port, options.host, () => { listening.off('error', reject); resolve() })
    })
    const address = listening.address()
    app.log.info({ address }, `metrics served on http://${options.host}:${typeof address === 'object' && address !== null ? address.port : port}${METRICS_PATH}`)
  })
  app.addHook('onClose', async () => {
    const s = server
    if (s === undefined) return
    s.closeAllConnections()
    await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  })
}
