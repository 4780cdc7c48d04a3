// JWT verification (HMAC, public keys, JWKS) and the identity a verified token speaks for.
import { createPublicKey } from 'node:crypto'
import { createVerifier, TokenError, type Algorithm } from 'fast-jwt'
import type buildGetJwks from 'get-jwks'
import type { ServerConfig } from '../../config/schema.js'
import { AuthInvalidToken, AuthTokenExpired, type RealtimeError } from '../../lib/errors.js'
import { isWellFormed } from '../../lib/ids.js'
import { onDemand } from '../../lib/on-demand.js'
import { claimAt } from './credentials.js'

/** Who a verified token speaks for. Stored on `socket.data.user`, so it survives recovery and is visible to `fetchSockets()`. */
export interface Identity {
  readonly userId: string
  readonly tenantId: string
  readonly roles: readonly string[]
  /** Expiry, seconds since the epoch, when the token has one. */
  readonly exp?: number
  /** The token's verified claims. */
  readonly claims: Readonly<Record<string, unknown>>
}

export interface TokenVerifier {
  /** Resolves the identity of a valid token; rejects with an `RT_ERR_AUTH_*` error otherwise. */
  verify (token: string): Promise<Identity>
  /**
   * `verify`, decided at once when no key has to be fetched (a secret or a public key): the identity, or a
   * thrown `RT_ERR_AUTH_*` error; a promise only with a JWKS. The Socket.IO handshake uses it, so that a
   * token checked in microseconds costs no promise and no microtask.
   */
  check (token: string): Identity | Promise<Identity>
}

type JwtConfig = ServerConfig['auth']['jwt']

/** The algorithms a key accepts when the config does not pin them. */
export function defaultAlgorithms (jwt: JwtConfig): Algorithm[] {
  if (jwt.secret !== undefined) return ['HS256']
  if (jwt.publicKey !== undefined) {
    const type = createPublicKey(jwt.publicKey).asymmetricKeyType
    if (type === 'ec') return ['ES256']
    if (type === 'ed25519' || type === 'ed448') return ['EdDSA']
    return ['RS256']
  }
  return ['RS256', 'ES256']
}

/** An id claim as an id: a non-empty, well-formed string, or a finite number; undefined for anything else. */
const asId = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 && isWellFormed(v) ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined

/** A claim the token does not carry: absent or null. */
const absent = (v: unknown): boolean => v === undefined || v === null

const invalid = (reason: string): RealtimeError => {
  const err: RealtimeError = new AuthInvalidToken()
  err.cause = reason
  return err
}

/** A user or tenant claim the token carries but that is no id (an array, an object, an empty string, ...): refused, saying which. */
const malformed = (claim: string): RealtimeError => {
  const reason = `claim ${claim} must be a non-empty string or a number`
  const err: RealtimeError = new AuthInvalidToken(reason)
  err.cause = reason
  return err
}

/** Maps verified claims to an identity, using the configured claim names. */
export function identityFrom (claims: Record<string, unknown>, jwt: JwtConfig): Identity {
  const user = claimAt(claims, jwt.claims.userId)
  if (absent(user)) throw invalid(`missing claim ${jwt.claims.userId}`)
  const userId = asId(user)
  if (userId === undefined) throw malformed(jwt.claims.userId)
  // `defaultTenantId` stands for a tenant claim the token does not carry, never for one it carries malformed.
  const tenant = claimAt(claims, jwt.claims.tenantId)
  const tenantId = absent(tenant) ? jwt.defaultTenantId : asId(tenant)
  if (tenantId === undefined) throw absent(tenant) ? invalid(`missing claim ${jwt.claims.tenantId}`) : malformed(jwt.claims.tenantId)
  const role = claimAt(claims, jwt.claims.role)
  const roles = typeof role === 'string' ? [role] : Array.isArray(role) ? role.filter((r): r is string => typeof r === 'string') : []
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined
  return { userId, tenantId, roles, exp, claims }
}

/**
 * One verifier for sockets and REST, built on fast-jwt (the engine under @fastify/jwt) so that the
 * socket handshake, which has no Fastify request, and REST share the same pinned algorithms, claims and cache.
 */
export function createTokenVerifier (jwt: JwtConfig): TokenVerifier {
  const algorithms = (jwt.algorithms ?? defaultAlgorithms(jwt)) as Algorithm[]
  const common = {
    algorithms,
    allowedIss: jwt.issuer,
    allowedAud: jwt.audience,
    clockTolerance: jwt.clockToleranceSec * 1000,
    // An HMAC check (a secret: HS* only) costs one hash of the token, as much as the cache's own key (a
    // hash of the token, twice on a miss): the cache only pays off for public-key signatures.
    cache: jwt.cacheSize > 0 && jwt.secret === undefined ? jwt.cacheSize : false
  }
  /** A fast-jwt error as the catalog's: expired, or invalid with fast-jwt's message as the reason. */
  const failure = (err: unknown): RealtimeError =>
    err instanceof TokenError && err.code === TokenError.codes.expired ? new AuthTokenExpired() : invalid(err instanceof Error ? err.message : String(err))
  const rethrow = (err: unknown): never => { throw failure(err) }
  const identityOf = (claims: unknown): Identity => identityFrom(claims as Record<string, unknown>, jwt)
  let check: (token: string) => Identity | Promise<Identity>
  if (jwt.jwksUrl !== undefined) {
    const url = new URL(jwt.jwksUrl)
    const jwks = (onDemand('get-jwks') as typeof buildGetJwks)({ jwksPath: url.pathname + url.search, providerDiscovery: false })
    const verify = createVerifier({
      ...common,
      key: async ({ header }: { header: Record<string, any> }) => await jwks.getPublicKey({ domain: url.origin, alg: header.alg, kid: header.kid })
    })
    // fast-jwt's verifier with a fetched key answers every failure, a malformed token included, as a rejection.
    check = async (token) => await verify(token).then(identityOf, rethrow)
  } else {
    // A key given, not fetched: fast-jwt's verifier answers at once.
    const verify = createVerifier({ ...common, key: jwt.secret ?? jwt.publicKey })
    check = (token) => {
      let claims: unknown
      try {
        claims = verify(token)
      } catch (err) {
        rethrow(err)
      }
      return identityOf(claims)
    }
  }

  return {
    check,
    async verify (token) { return await check(token) }
  }
}
