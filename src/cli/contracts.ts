/**
 * `npm run contracts -- <openapi|asyncapi|client-types> [--config <file>] [--out <file>] [--host <host:port>]`: writes the
 * OpenAPI document, the AsyncAPI document or the typed client definitions (.d.ts) of a config, to stdout or `--out`.
 */
import { writeFileSync } from 'node:fs'
import { buildApp } from '../app.js'
import { loadConfig } from '../config/load.js'
import type { ServerConfig } from '../config/schema.js'
import { kCore, type Core } from '../core/core.js'
import { asyncapiDocument } from '../core/contracts/asyncapi.js'
import { clientTypes } from '../core/contracts/client-types.js'
import { contractsOf } from '../core/contracts/registry.js'

const KINDS = ['openapi', 'asyncapi', 'client-types'] as const
type Kind = typeof KINDS[number]

const option = (argv: readonly string[], name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  if (i >= 0) return argv[i + 1]
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

/** The text of one contract for the config the arguments name; the app is built (not listening) and closed. */
export async function contractText (kind: Kind, argv: readonly string[]): Promise<string> {
  const { config, baseDir, production } = loadConfig(argv, process.env)
  // The documents do not depend on Redis nor on the log: built without them, so no Redis is needed to write them.
  const { url: _url, ...redis } = config.redis
  const offline: ServerConfig = { ...config, redis, server: { ...config.server, logLevel: 'silent' }, docs: { ...config.docs, openapi: { ...config.docs.openapi, enabled: true } } }
  const app = await buildApp(offline, { baseDir, production })
  try {
    await app.ready()
    if (kind === 'openapi') return JSON.stringify(app.swagger(), null, 2) + '\n'
    const core = (app as unknown as Record<symbol, Core>)[kCore]!
    const contracts = contractsOf(core)
    if (kind === 'asyncapi') return JSON.stringify(asyncapiDocument(config, contracts, { host: option(argv, 'host') }), null, 2) + '\n'
    return clientTypes(contracts)
  } finally {
    await app.close()
  }
}

const argv = process.argv.slice(2)
const kind = argv[0] as Kind
if (!KINDS.includes(kind)) {
  process.stderr.write(`usage: contracts <${KINDS.join('|')}> [--config <file>] [--out <file>] [--host <host:port>]\n`)
  process.exitCode = 2
} else {
  try {
    const text = await contractText(kind, argv.slice(1))
    const out = option(argv, 'out')
    if (out === undefined) process.stdout.write(text)
    else {
      writeFileSync(out, text)
      process.stderr.write(`wrote ${out}\n`)
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exitCode = 1
  }
}
