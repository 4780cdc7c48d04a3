import cors from '@fastify/cors'
import fastifyRedis from '@fastify/redis'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { DestinationStream } from 'pino'
import type { ServerConfig } from './config/schema.js'
import { RestAuthenticator } from './core/auth/rest-auth.js'
import { createTokenVerifier } from './core/auth/tokens.js'
import { kCore, type Core } from './core/core.js'
import { clientError, isCatalogError, mapErrorForClient } from './core/errors.js'
import { healthRoutes } from './core/health.js'
import { loggerOptions } from './core/logger.js'
import { NamespaceRegistry } from './core/namespaces.js'
import { loadPlugins, type LoadedPlugin } from './core/plugins/loader.js'
import { connectRedis } from './core/redis.js'
import { createSocketServer } from './core/socketio.js'
import { MemoryStoreBackend, memoryStore } from './core/store/memory.js'
import { redisStore } from './core/store/redis.js'
import { explain, validationError } from './core/validation.js'

export interface BuildOptions {
  /** Plugins already loaded (by `loadPlugins`); otherwise loaded from `config.plugins`. */
  plugins?: LoadedPlugin[]
  /** Where relative plugin paths start (the config file's directory); the working directory by default. */
  baseDir?: string
  /** Destination of the JSON log lines (tests capture them); stdout by default. */
  logStream?: DestinationStream
}

/**
 * Builds the server from a validated config: Fastify, Socket.IO, auth, Redis (when configured), the
 * health routes, and the plugins. It does not listen; `main.ts` does.
 */
export async function buildApp (config: Readonly<ServerConfig>, options: BuildOptions = {}): Promise<FastifyInstance> {
  const plugins = options.plugins ?? await loadPlugins(config.plugins, options.baseDir ?? process.cwd())
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    trustProxy: config.server.trustProxy,
    bodyLimit: config.server.bodyLimit,
    schemaErrorFormatter: (errors, dataVar) => validationError(explain(errors as any)[0] ?? { field: '', message: 'is invalid' }, dataVar)
  })
  try {
    await setup(app, config, plugins)
  } catch (err) {
    await app.close()
    throw err
  }
  return app
}

async function setup (app: FastifyInstance, config: Readonly<ServerConfig>, plugins: LoadedPlugin[]): Promise<void> {
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  app.setErrorHandler(errorHandler)

  if (config.socketio.cors.origins.length > 0) {
    const origins = config.socketio.cors.origins
    await app.register(cors, { origin: origins.includes('*') ? true : [...origins], credentials: config.socketio.cors.credentials })
  }

  let redis: Redis | undefined
  const backend = new MemoryStoreBackend()
  if (config.redis.url !== undefined) {
    redis = await connectRedis(config.redis, app.log)
    // `app.redis` for plugins of the ecosystem. Closed in onClose, which runs after preClose (where Socket.IO
    // closes); a connection that already ended must not make the shutdown fail.
    await app.register(fastifyRedis, { client: redis, closeClient: false })
    const client = redis
    app.addHook('onClose', async () => {
      if (client.status === 'end') return
      await client.quit().catch(() => { client.disconnect() })
    })
  }
  app.addHook('onClose', async () => { backend.close() })

  const verifier = createTokenVerifier(config.auth.jwt)
  let registry: NamespaceRegistry | undefined
  const io = createSocketServer(app, config, redis, async () => { await registry?.drain() })
  registry = new NamespaceRegistry({
    io,
    verifier,
    log: app.log,
    expiryGraceMs: config.auth.expiryGraceMs,
    clustered: redis !== undefined,
    countTimeoutMs: config.publish.countTimeoutMs
  })
  const prefix = `${config.redis.keyPrefix}:`
  const core: Core = {
    config,
    log: app.log,
    io,
    registry,
    rest: new RestAuthenticator(config.auth, verifier),
    verifier,
    nodeId: randomUUID(),
    store: redis !== undefined ? redisStore(redis, prefix) : memoryStore(backend, prefix),
    redis,
    clustered: redis !== undefined,
    provided: new Map(),
    draining: false
  }
  app.decorate(kCore, core)
  app.decorateRequest('principal', null)
  app.addHook('preClose', async () => { core.draining = true })
  healthRoutes(app, core)

  await app.register(async function plugins$ (scope) {
    // Plugin routes that hit Redis during an outage answer 503 RT_ERR_NOT_READY: mapped here, answered by errorHandler.
    scope.setErrorHandler(mapErrorForClient)
    for (const p of plugins) await scope.register(p.plugin, p.options)
  })
  app.addHook('onReady', async () => { registry.freeze() })
}

function errorHandler (this: FastifyInstance, err: FastifyError, request: any, reply: any): void {
  if (isCatalogError(err)) {
    const status = err.statusCode ?? 500
    reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], ...clientError(err) })
    return
  }
  const status = err.statusCode ?? 500
  if (status < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type) keep their code and message.
    reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], code: err.code ?? 'RT_ERR_BAD_REQUEST', message: err.message })
    return
  }
  request.log.error({ err }, 'request failed')
  reply.code(500).send({ statusCode: 500, error: STATUS_CODES[500], ...clientError(err) })
}

