// The server process: load the config, build, listen, and close gracefully on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig } from './config/load.js'
import { kCore, type Core } from './core/core.js'
import { drainAndClose } from './core/drain.js'

/** load config -> buildApp -> listen -> graceful close on SIGTERM/SIGINT. The only file that touches `process`. */
async function main (): Promise<void> {
  let loaded
  try {
    loaded = loadConfig(process.argv.slice(2), process.env)
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(78) // EX_CONFIG
  }
  const { config, baseDir, source, warnings, production } = loaded
  let app
  try {
    app = await buildApp(config, { baseDir, production })
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(78)
  }
  for (const w of warnings) app.log.warn({ code: w.code }, `!!! ${w.message} ${w.fix}`)
  const core = (app as unknown as Record<symbol, Core>)[kCore]!

  closeWithGrace({ delay: config.shutdown.timeoutMs, logger: app.log }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'fatal error, shutting down')
    else app.log.info({ signal }, 'shutting down')
    // Ctrl-C in a terminal (SIGINT) has no load balancer to wait for; SIGTERM (orchestrators) and fatal errors drain.
    await drainAndClose(app, core, signal === 'SIGINT' ? 0 : config.shutdown.drainDelayMs)
    app.log.info('closed')
  })

  await app.listen({ host: config.server.host, port: config.server.port })
  app.log.info({ config: source, plugins: Object.keys(config.plugins).filter((n) => config.plugins[n]!.enabled), redis: config.redis.url !== undefined }, 'realtime server ready')
}

await main()
