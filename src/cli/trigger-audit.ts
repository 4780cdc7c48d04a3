// Which REST triggers no configured credential can call: said once per route at start-up, in production.
import type { RouteOptions } from 'fastify'
import type { ServerConfig } from '../config/schema.js'
import type { TriggerContract } from '../core/plugins/api.js'
import { TriggerUnreachable, type StartupWarning } from '../lib/warnings.js'

/**
 * A trigger's contract (`config.contract`, src/core/plugins/api.ts) says how it authenticates: `user` routes take any
 * valid JWT; `publisher` routes take an API key (`auth.apiKeys`) or a JWT with a role of `auth.publishRoles`.
 * A publisher route with no API key configured is called by JWTs only, or, without publish roles, by nobody:
 * every call answers 401 or 403.
 */
export function triggerWarnings (routes: readonly RouteOptions[], auth: Readonly<ServerConfig['auth']>): StartupWarning[] {
  if (auth.apiKeys.length > 0) return []
  const warnings: StartupWarning[] = []
  const seen = new Set<string>()
  for (const route of routes) {
    const contract = (route.config as { contract?: TriggerContract } | undefined)?.contract
    if (contract === undefined || contract.auth !== 'publisher') continue
    // Fastify adds a HEAD route for each GET: the GET's warning covers it.
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD').join(',')
    if (methods === '') continue
    const id = `${methods} ${route.url}`
    if (seen.has(id)) continue
    seen.add(id)
    warnings.push(TriggerUnreachable(methods, route.url, auth.publishRoles.length === 0
      ? 'no credential can call it (no API_KEYS, auth.publishRoles empty): every call answers 401 or 403.'
      : `no API key configured (API_KEYS): only a JWT with role ${auth.publishRoles.join(' or ')} (auth.publishRoles) can call it; x-api-key calls answer 401.`))
  }
  return warnings
}
