// Reading credentials one way everywhere: a claim by name or dot path, a token with or without `Bearer `.

/**
 * A verified JWT claim by name or dot path (`chat.channels`), own properties only (a path never reaches
 * `Object.prototype`); undefined when absent. The core reads `auth.jwt.claims` this way, and so should plugins.
 *
 * @example
 * const channels = claimAt(ctx.user.claims, 'chat.channels')   // { chat: { channels: ['c1'] } } -> ['c1']
 */
export function claimAt (claims: Readonly<Record<string, unknown>>, path: string): unknown {
  // A plain name (`sub`, `tenantId`), as most are: read without splitting the path.
  if (!path.includes('.')) return claims !== null && typeof claims === 'object' && Object.hasOwn(claims, path) ? claims[path] : undefined
  let value: unknown = claims
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

const BEARER = /^bearer\s+/i

/**
 * A token given with or without a `Bearer ` prefix (a handshake's `auth.token`, a query parameter, an
 * `auth:refresh` payload); undefined when it is not a non-empty string.
 *
 * @example
 * bareToken('Bearer eyJ...') // 'eyJ...'
 */
export function bareToken (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const token = value.replace(BEARER, '').trim()
  return token.length > 0 ? token : undefined
}

/**
 * The token of an `Authorization: Bearer <token>` header; undefined for any other scheme or no header.
 *
 * @example
 * bearerToken(request.headers.authorization)
 */
export function bearerToken (header: unknown): string | undefined {
  return typeof header === 'string' && BEARER.test(header) ? bareToken(header) : undefined
}
