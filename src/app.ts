// buildApp: Fastify, Socket.IO, auth, Redis, health routes and the plugins, assembled from a validated config.
import cors from '@fastify/cors'
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify'
import type { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import type { DestinationStream } from 'pino'
import type { ServerConfig } from './config/schema.js'
import { RestAuthenticator } from './core/auth/rest-auth.js'
import { createTokenVerifier } from './core/auth/tokens.js'
import { kCore, type Core } from './core/core.js'
import { ClusterView } from './core/cluster/cluster-view.js'
import { controlRoutes } from './core/control/index.js'
import { drainHooks } from './core/drain.js'
import { openapiDocs } from './core/contracts/openapi.js'
import { asyncapiRoute } from './core/contracts/routes.js'
import { installEmitValidation, validatesEmits } from './core/contracts/emit-validation.js'
import { healthRoutes } from './core/health.js'
import { inspector } from './core/inspector/index.js'
import { clientErrorHandler, errorHandler, frameworkErrors, notFoundHandler } from './core/http-errors.js'
import { loggerOptions } from './core/logger.js'
import { metricsEndpoint } from './core/metrics/endpoint.js'
import { Metrics } from './core/metrics/metrics.js'
import { loadPlugins, type LoadedPlugin } from './core/plugins/loader.js'
import { connectRedis } from './core/redis.js'
import { requestLog } from './core/request-log.js'
import { restLimits } from './core/rest-limits.js'
import { createSocketCore, type SocketCore } from './core/socket-core.js'
import { clusterProblem, createSocketServer } from './core/socketio.js'
import { MemoryStoreBackend, memoryStore } from './core/store/memory.js'
import { redisStore } from './core/store/redis.js'
import { webhookRoutes } from './core/webhooks/routes.js'
import { Webhooks } from './core/webhooks/webhooks.js'
import { onDemand } from './lib/on-demand.js'
import { explain, routeValidatorCompiler, validationError } from './lib/validation.js'

export interface BuildOptions {
  /** Plugins already loaded (by `loadPlugins`); otherwise loaded from `config.plugins`. */
  plugins?: LoadedPlugin[]
  /** Where relative plugin paths start (the config file's directory); the working directory by default. */
  baseDir?: string
  /** Runs as in production (`NODE_ENV=production`, read by the config loader); false by default. */
  production?: boolean
  /** Destination of the JSON log lines (tests capture them); stdout by default. */
  logStream?: DestinationStream
  /** Sees every route as it is added (the command line checks who can call each trigger). */
  onRoute?: (route: RouteOptions) => void
}

/**
 * Builds the server from a validated config: Fastify, Socket.IO, auth, Redis (when configured), the
 * health routes, and the plugins. It does not listen; `main.ts` does.
 */
export async function buildApp (config: Readonly<ServerConfig>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const plugins = options.plugins ?? await loadPlugins(config.plugins, options.baseDir ?? process.cwd())
  const app = Fastify({
    logger: await loggerOptions(config, options.logStream),
    // One line per request, from request-log.ts, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.server.trustProxy,
    bodyLimit: config.server.bodyLimit,
    // While closing, requests go on to the drain hook (a catalog 503), not to Fastify's code-less 503.
    return503OnClosing: false,
    clientErrorHandler,
    frameworkErrors,
    schemaErrorFormatter: (errors, dataVar) => validationError(explain(errors as any)[0] ?? { field: '', message: 'is invalid' }, dataVar)
  })
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute)
  try {
    await setup(app, config, plugins, options.production ?? false)
  } catch (err) {
    await app.close()
    throw err
  }
  return app
}

async function setup (app: FastifyInstance, config: Readonly<ServerConfig>, plugins: LoadedPlugin[], production: boolean): Promise<void> {
  app.setValidatorCompiler(routeValidatorCompiler)
  requestLog(app)
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // Bodies are JSON: a text/plain body is answered 415 RT_ERR_UNSUPPORTED_MEDIA_TYPE rather than "body: must be object".
  app.removeContentTypeParser('text/plain')
  // Draining starts before anything else closes (Socket.IO's preClose below), also for an in-process `app.close()`.
  let core: Core | undefined
  app.addHook('preClose', async () => { if (core !== undefined) core.draining = true })

  if (config.socketio.cors.origins.length > 0) {
    const origins = config.socketio.cors.origins
    await app.register(cors, { origin: origins.includes('*') ? true : [...origins], credentials: config.socketio.cors.credentials })
  }

  const metrics = new Metrics(config.metrics)
  let redis: Redis | undefined
  const backend = new MemoryStoreBackend()
  if (config.redis.url !== undefined) {
    redis = await connectRedis(config.redis, app.log)
    // `app.redis` for plugins of the ecosystem. Closed in onClose, which runs after preClose (where Socket.IO
    // closes); a connection that already ended must not make the shutdown fail.
    await app.register(onDemand('@fastify/redis') as typeof import('@fastify/redis'), { client: redis, closeClient: false })
    const client = redis
    app.addHook('onClose', async () => {
      if (client.status !== 'end') await client.quit().catch(() => { client.disconnect() })
      app.log.info('redis closed')
    })
  }
  app.addHook('onClose', async () => { backend.close() })

  const verifier = createTokenVerifier(config.auth.jwt)
  const nodeId = randomUUID()
  let sockets: SocketCore | undefined
  const io = createSocketServer(app, config, redis, async () => { await sockets?.dispatch.drain() })
  sockets = createSocketCore({
    io,
    verifier,
    log: app.log,
    expiryGraceMs: config.auth.expiryGraceMs,
    countTimeoutMs: config.publish.countTimeoutMs,
    limits: config.limits,
    plugins: config.plugins,
    redis,
    keyPrefix: config.redis.keyPrefix,
    nodeId,
    logRepeatMs: config.server.logRepeatMs,
    maxFrameBytes: config.socketio.maxHttpBufferSize,
    metrics
  })
  metrics.observe(io, sockets.registry)
  if (redis !== undefined) metrics.observeRedis(redis, () => clusterProblem(io))
  const limits = sockets.limits
  app.addHook('onClose', async () => { await limits.close() })
  // onClose hooks run last registered first: the webhooks' attempts end before Redis closes, after the sockets
  // (and the plugins' preClose, which may still queue events).
  const webhooks = new Webhooks({
    options: config.webhooks,
    redis,
    keyPrefix: config.redis.keyPrefix,
    nodeId,
    log: app.log,
    count: {
      attempt: (endpoint, outcome) => { metrics.webhookAttempts.inc({ endpoint, outcome }) },
      dead: (endpoint) => { metrics.webhookDeadLetters.inc({ endpoint }) }
    }
  })
  app.addHook('onClose', async () => { await webhooks.close() })
  const { registry } = sockets
  const prefix = `${config.redis.keyPrefix}:`
  core = {
    ...sockets,
    config,
    log: app.log,
    io,
    rest: new RestAuthenticator(config.auth, verifier),
    verifier,
    nodeId,
    production,
    store: redis !== undefined ? redisStore(redis, prefix) : memoryStore(backend, prefix),
    redis,
    clustered: redis !== undefined,
    provided: new Map(),
    clusterView: new ClusterView({ io, registry, link: sockets.bus.link, nodeId, timeoutMs: config.publish.countTimeoutMs }),
    metrics,
    webhooks,
    draining: false
  }
  app.decorate(kCore, core)
  app.decorateRequest('principal', null)
  drainHooks(app, core)
  // Before any route: @fastify/swagger collects routes as they are added.
  if (config.docs.openapi.enabled) await openapiDocs(app, config)
  healthRoutes(app, core)
  metricsEndpoint(app, config.metrics, metrics)
  if (config.docs.asyncapi.enabled) asyncapiRoute(app, core)
  // Before the plugins' routes: their authentication runs between the limits' two checks (see rest-limits.ts).
  await restLimits(app, config, redis)
  // Before the inspector, which offers the plugins' triggers (not these) to its admins.
  await controlRoutes(app, core, plugins)
  await webhookRoutes(app, core, plugins)
  // Before the plugins: the inspector watches their trigger routes as they are added.
  inspector(app, core, plugins)

  await app.register(async function plugins$ (scope) {
    for (const p of plugins) await scope.register(p.plugin, p.options)
  })
  app.addHook('onReady', async () => { registry.freeze() })
  // Outside production (or as contracts.validateEmits says): every emitted server event is checked against the catalogs.
  const checked = core
  if (validatesEmits(config, production)) app.addHook('onReady', async () => { installEmitValidation(checked) })
}
