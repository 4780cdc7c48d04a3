// `realtime-server start`: load the config, build, listen, and close gracefully on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { buildApp } from '../app.js'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { kCore, type Core } from '../core/core.js'
import { drainAndClose } from '../core/drain.js'
import type { StartupWarning } from '../lib/warnings.js'
import { describe, EX_CONFIG, isConfigError } from './report.js'
import { triggerWarnings } from './trigger-audit.js'

type Env = Record<string, string | undefined>

const fail = (lines: string[], code: number): never => {
  process.stderr.write(lines.map((l) => `${l}\n`).join(''))
  process.exit(code)
}

/**
 * Loads and builds as `start` does, without listening: the config (file and environment), every plugin's options,
 * and the checks the plugins make when they are set up (the commerce WebSocket path against `socketio.path`, two
 * presence lists on one namespace...). Redis is not connected. Returns the app (to close) and every warning.
 */
export async function buildChecked (loaded: LoadedConfig, options: { offline?: boolean } = {}): Promise<{ app: FastifyInstance, warnings: StartupWarning[] }> {
  const routes: RouteOptions[] = []
  let { config } = loaded
  if (options.offline === true) {
    // Nothing is served: no Redis to connect to, no log lines of the build.
    const { url: _url, ...redis } = config.redis
    config = { ...config, redis, server: { ...config.server, logLevel: 'silent' } }
  }
  const app = await buildApp(config, { baseDir: loaded.baseDir, production: loaded.production, onRoute: (r) => { routes.push(r) } })
  const warnings = [...loaded.warnings, ...(loaded.production ? triggerWarnings(routes, config.auth) : [])]
  return { app, warnings }
}

/** Where the listening port comes from, for a message: the variable, the file's key, or the default. */
function portSource (loaded: LoadedConfig, env: Env): string {
  if (env.PORT !== undefined && env.PORT !== '') return `set by PORT=${env.PORT}`
  if (loaded.written('server.port')) return `server.port at ${loaded.where('server.port')}`
  return 'the default server.port'
}

/** A listen error as one line naming the port and the setting it came from. */
function listenError (err: NodeJS.ErrnoException & { port?: number, address?: string }, loaded: LoadedConfig, env: Env): string | undefined {
  const { config } = loaded
  const metrics = config.metrics.port !== undefined && err.port === config.metrics.port && err.port !== config.server.port
  const setting = metrics
    ? (env.METRICS_PORT !== undefined && env.METRICS_PORT !== '' ? `set by METRICS_PORT=${env.METRICS_PORT}` : `metrics.port at ${loaded.where('metrics.port')}`)
    : portSource(loaded, env)
  const port = err.port ?? config.server.port
  const host = err.address ?? config.server.host
  const fix = metrics ? 'set METRICS_PORT (metrics.port) to a free port' : 'set PORT (or server.port) to a free port'
  if (err.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use (${setting}): stop the other process or ${fix}`
  if (err.code === 'EACCES') return `not allowed to listen on port ${port} on ${host} (${setting}): ports below 1024 need privileges; ${fix}`
  if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${host}, not an address of this machine (${env.HOST !== undefined && env.HOST !== '' ? `set by HOST=${env.HOST}` : 'server.host'})`
  return undefined
}

/** load config -> buildApp -> listen -> graceful close on SIGTERM/SIGINT. Exits the process on failure. */
export async function start (file: string | undefined, env: Env = process.env): Promise<void> {
  let loaded: LoadedConfig
  try {
    loaded = loadConfigFile(file, env)
  } catch (err) {
    return fail(describe(err), isConfigError(err) ? EX_CONFIG : 1)
  }
  const { config, source } = loaded
  let built
  try {
    built = await buildChecked(loaded)
  } catch (err) {
    return fail(describe(err, loaded), isConfigError(err) ? EX_CONFIG : 1)
  }
  const { app, warnings } = built
  for (const w of warnings) app.log.warn({ code: w.code }, `!!! ${w.message} ${w.fix}`)
  const core = (app as unknown as Record<symbol, Core>)[kCore]!

  const closer = closeWithGrace({ delay: config.shutdown.timeoutMs, logger: app.log }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    else app.log.info({ signal }, 'shutting down')
    // Ctrl-C in a terminal (SIGINT) has no load balancer to wait for; SIGTERM (orchestrators) and fatal errors drain.
    await drainAndClose(app, core, signal === 'SIGINT' ? 0 : config.shutdown.drainDelayMs)
    app.log.info('closed')
  })

  try {
    await app.listen({ host: config.server.host, port: config.server.port })
  } catch (err) {
    const line = listenError(err as NodeJS.ErrnoException, loaded, env)
    closer.uninstall()
    await app.close().catch(() => {})
    return fail([line ?? describe(err, loaded).join('\n')], 1)
  }
  app.log.info({ config: source, host: config.server.host, plugins: Object.keys(config.plugins).filter((n) => config.plugins[n]!.enabled), redis: config.redis.url !== undefined }, 'realtime server ready')
}
