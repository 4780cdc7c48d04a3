// The bench's secrets and identities: one HS256 secret for every variant, one API key for the REST
// triggers, and a distinct JWT per client (claims sub, tenantId, role), as users' clients would have.
import { createSigner } from 'fast-jwt'

export const JWT_SECRET = 'bench-hs256-secret-0123456789abcdef-not-for-production'
export const API_KEY = 'bench-api-key-0123456789abcdef'
export const TENANT = 'bench'
export const ROLE = 'viewer'

const sign = createSigner({ key: JWT_SECRET, algorithm: 'HS256', expiresIn: 4 * 3600 * 1000 })

const cache = []

/** The token of client i (user `u<i>` of the bench tenant); signed once, reused across runs. */
export function tokenFor (i) {
  let t = cache[i]
  if (t === undefined) {
    t = sign({ sub: `u${i}`, tenantId: TENANT, role: ROLE })
    cache[i] = t
  }
  return t
}
