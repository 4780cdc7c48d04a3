// REST authentication: API keys (bound to a tenant or not) and JWTs, and the tenant a request acts on.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { ServerConfig } from '../../config/schema.js'
import { Forbidden, isCatalogError, Unauthorized, ValidationFailed } from '../../lib/errors.js'
import { bearerToken } from './credentials.js'
import type { Identity, TokenVerifier } from './tokens.js'

/** Who called a REST route. */
export type Principal =
  | { readonly kind: 'apiKey', readonly name: string, readonly tenantId?: string }
  | { readonly kind: 'user', readonly identity: Identity }

/**
 * Which callers a route accepts:
 * - `publisher`: an API key, or a JWT whose role is in `auth.publishRoles` (backends pushing events);
 * - `user`: an API key, or any valid JWT (clients reading their own tenant's data).
 */
export type AuthMode = 'publisher' | 'user'

interface KeyEntry {
  digest: Buffer
  name: string
  tenantId?: string
}

const digest = (key: string): Buffer => createHash('sha256').update(key).digest()

export class RestAuthenticator {
  readonly #keys: KeyEntry[]
  readonly #publishRoles: ReadonlySet<string>

  constructor (auth: ServerConfig['auth'], readonly verifier: TokenVerifier) {
    this.#keys = auth.apiKeys.map((k, i) => typeof k === 'string'
      ? { digest: digest(k), name: `key#${i + 1}` }
      : { digest: digest(k.key), name: k.name ?? `key#${i + 1}`, tenantId: k.tenantId })
    this.#publishRoles = new Set(auth.publishRoles)
  }

  /** Compares the digest with every key in constant time, so timing says nothing about any key. */
  #matchKey (key: string): KeyEntry | undefined {
    const d = digest(key)
    let found: KeyEntry | undefined
    for (const entry of this.#keys) if (timingSafeEqual(d, entry.digest) && found === undefined) found = entry
    return found
  }

  async authenticate (request: FastifyRequest, mode: AuthMode): Promise<Principal> {
    const key = request.headers['x-api-key']
    if (typeof key === 'string' && key.length > 0) {
      const entry = this.#matchKey(key)
      if (entry === undefined) throw new Unauthorized('unknown API key')
      return entry.tenantId === undefined ? { kind: 'apiKey', name: entry.name } : { kind: 'apiKey', name: entry.name, tenantId: entry.tenantId }
    }
    const header = request.headers.authorization
    const token = bearerToken(header)
    if (token === undefined) throw new Unauthorized('send x-api-key or Authorization: Bearer <jwt>')
    let identity: Identity
    try {
      identity = await this.verifier.verify(token)
    } catch (err) {
      throw new Unauthorized(isCatalogError(err) ? err.message.replace('Authentication failed: ', '').toLowerCase() : 'invalid token')
    }
    if (mode === 'publisher' && !identity.roles.some((r) => this.#publishRoles.has(r))) {
      throw new Forbidden(`role ${identity.roles.join(', ') || '(none)'} may not publish`)
    }
    return { kind: 'user', identity }
  }
}

/**
 * The tenant a request acts on. A tenant-bound API key and a user token act only within their own
 * tenant (asking for another is 403); an unbound key must name the tenant.
 */
export function tenantOf (principal: Principal, requested: string | undefined): string {
  const own = principal.kind === 'user' ? principal.identity.tenantId : principal.tenantId
  if (own === undefined) {
    if (requested === undefined) {
      const err = new ValidationFailed('tenantId: is required with an API key that is not bound to a tenant')
      err.field = 'tenantId'
      throw err
    }
    return requested
  }
  if (requested !== undefined && requested !== own) throw new Forbidden(`these credentials act only within tenant ${own}`)
  return own
}
