// Redaction of configuration shown by the inspector: secrets, keys and passwords never leave the server.
/** Keys whose values are credentials, whatever their nesting (`auth.jwt.secret`, `admin.keys`, a plugin's `webhookToken`). */
const SECRET_KEY = /secret|password|passwd|pwd|token|apikey|api_key|keys?$|privatekey|publickey|credential|authorization|cookie|signature|salt/i
/** Keys that match the pattern above but hold no secret. */
const NOT_SECRET = new Set(['keyPrefix', 'cacheSize', 'algorithms', 'expiryGraceMs'])

export const REDACTED = '[redacted]'

/** A URL's password (`redis://user:pass@host`) replaced; other strings as they are. */
function redactUrl (value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return value
  try {
    const url = new URL(value)
    if (url.password !== '') url.password = REDACTED
    return url.toString()
  } catch {
    return REDACTED
  }
}

/**
 * A deep copy of `value` with every credential-like key's value replaced by `[redacted]` and passwords taken out
 * of URLs.
 *
 * @example
 * redact({ jwt: { secret: 's' }, redis: { url: 'redis://:pw@h:6379' } })
 * // { jwt: { secret: '[redacted]' }, redis: { url: 'redis://:%5Bredacted%5D@h:6379' } }
 */
export function redact (value: unknown, key = ''): unknown {
  if (key !== '' && !NOT_SECRET.has(key) && SECRET_KEY.test(key) && value !== undefined && value !== null && typeof value !== 'boolean' && typeof value !== 'number') return REDACTED
  if (typeof value === 'string') return redactUrl(value)
  if (Array.isArray(value)) return value.map((v) => redact(v))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k)
    return out
  }
  return value
}
