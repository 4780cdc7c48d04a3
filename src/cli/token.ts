// `realtime-server token`: a JWT for development and tests, signed with the configured shared secret (or the development one).
import { createSigner } from 'fast-jwt'
import type { LoadedConfig } from '../config/load.js'
import { DEVELOPMENT_JWT_SECRET } from '../config/load.js'
import { ConfigInvalid } from '../lib/errors.js'
import { UsageError } from './usage.js'

export interface TokenRequest {
  sub: string
  tenant?: string
  roles: string[]
  /** `k=v`: the value is JSON when it parses (numbers, booleans, arrays), a string otherwise. */
  claims: string[]
  /** `90s`, `15m`, `1h`, `7d`, or `never`. */
  expires: string
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** Seconds of a duration, or undefined for `never`. */
export function durationSeconds (text: string): number | undefined {
  if (text === 'never') return undefined
  const m = /^(\d+)([smhd]?)$/.exec(text)
  if (m === null || Number(m[1]) === 0) throw new UsageError(`--expires: "${text}" is not a duration (e.g. 90s, 15m, 1h, 7d, or never)`)
  return Number(m[1]) * UNITS[m[2] === '' ? 's' : m[2]!]!
}

/** Sets a claim at a dot path (the config's claim names may be nested: `app.tenant`). */
function put (payload: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let o = payload
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>
  o[keys[keys.length - 1]!] = value
}

/** The signed token; throws a usage error for a malformed claim, a config error when the server holds no shared secret. */
export function mintToken (loaded: LoadedConfig, request: TokenRequest): { token: string, development: boolean } {
  const jwt = loaded.config.auth.jwt
  if (jwt.secret === undefined) {
    throw new ConfigInvalid(`auth.jwt: the server verifies tokens with ${jwt.publicKey !== undefined ? 'a public key (auth.jwt.publicKey)' : 'JWKS (auth.jwt.jwksUrl)'}: tokens come from your identity provider, this command signs only with a shared secret (JWT_SECRET)`)
  }
  const payload: Record<string, unknown> = {}
  for (const claim of request.claims) {
    const eq = claim.indexOf('=')
    if (eq <= 0) throw new UsageError(`--claim: "${claim}" is not key=value`)
    const raw = claim.slice(eq + 1)
    let value: unknown = raw
    try { value = JSON.parse(raw) } catch {}
    put(payload, claim.slice(0, eq), value)
  }
  const names = jwt.claims
  put(payload, names.userId, request.sub)
  if (request.tenant !== undefined) put(payload, names.tenantId, request.tenant)
  if (request.roles.length > 0) put(payload, names.role, request.roles.length === 1 ? request.roles[0] : request.roles)
  if (jwt.issuer !== undefined) payload.iss = jwt.issuer
  if (jwt.audience !== undefined) payload.aud = jwt.audience
  const seconds = durationSeconds(request.expires)
  if (seconds !== undefined) payload.exp = Math.floor(Date.now() / 1000) + seconds
  const algorithm = (jwt.algorithms?.[0] ?? 'HS256') as 'HS256'
  const token = createSigner({ key: jwt.secret, algorithm, noTimestamp: false })(payload)
  return { token, development: jwt.secret === DEVELOPMENT_JWT_SECRET }
}
