// The text of one contract document (OpenAPI, AsyncAPI, client types) of a config, from an app built without listening.
import { buildApp } from '../app.js'
import type { LoadedConfig } from '../config/load.js'
import type { ServerConfig } from '../config/schema.js'
import { kCore, type Core } from '../core/core.js'
import { asyncapiDocument } from '../core/contracts/asyncapi.js'
import { clientTypes } from '../core/contracts/client-types.js'
import { contractsOf } from '../core/contracts/registry.js'

export const CONTRACT_KINDS = ['openapi', 'asyncapi', 'client-types'] as const
export type ContractKind = typeof CONTRACT_KINDS[number]

/** The text of one contract for a loaded config; the app is built (not listening, without Redis) and closed. */
export async function contractText (kind: ContractKind, loaded: LoadedConfig, options: { host?: string } = {}): Promise<string> {
  const { config, baseDir, production } = loaded
  // The documents do not depend on Redis nor on the log: built without them, so no Redis is needed to write them.
  const { url: _url, ...redis } = config.redis
  const offline: ServerConfig = { ...config, redis, server: { ...config.server, logLevel: 'silent' }, docs: { ...config.docs, openapi: { ...config.docs.openapi, enabled: true } } }
  const app = await buildApp(offline, { baseDir, production })
  try {
    await app.ready()
    if (kind === 'openapi') return JSON.stringify(app.swagger(), null, 2) + '\n'
    const core = (app as unknown as Record<symbol, Core>)[kCore]!
    const contracts = contractsOf(core)
    if (kind === 'asyncapi') return JSON.stringify(asyncapiDocument(config, contracts, { host: options.host }), null, 2) + '\n'
    return clientTypes(contracts)
  } finally {
    await app.close()
  }
}
