// Engine.IO's query string of a handshake, read without a `URL` when it is plain.

/** A query string whose every pair reads as written: no percent-escape, no `+`, no fragment, no `__proto__`. */
const PLAIN_QUERY = /^[\w.~=&-]*$/

/**
 * The query of a request target as Engine.IO's `prepare` reads it, `Object.fromEntries(new URL(url, base).searchParams)`,
 * when that can be read straight from the text: a target with a `?` and no `#`, whose query is made only of
 * letters, digits and `_ . ~ - = &`, and names no `__proto__` (which `Object.fromEntries` makes an own property and an
 * assignment would not). Then each `&`-separated pair is a name and a value split at the first `=` (a missing `=`
 * is an empty value, an empty pair is skipped, a later name wins), as URLSearchParams reads it, and nothing needs
 * decoding. Anything else answers undefined: the caller parses it with `URL`.
 */
export function plainQuery (url: string): Record<string, string> | undefined {
  const start = url.indexOf('?')
  if (start === -1 || url.includes('#')) return undefined
  const query = url.slice(start + 1)
  if (!PLAIN_QUERY.test(query) || query.includes('__proto__')) return undefined
  const out: Record<string, string> = {}
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq === -1) out[pair] = ''
    else out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

interface PreparedRequest { url?: string, _query?: Record<string, string> }
interface EngineLike { prepare?: (req: PreparedRequest) => void }

/**
 * This Engine.IO server reads a handshake's plain query string itself (`plainQuery`) and leaves the rest to its own
 * `prepare` (a `URL`, about 2 µs a handshake): the same `_query` object, for this server only (its own
 * `prepare`, shadowing the prototype's). Answers whether it is installed (engine.io 6.6 has `prepare`).
 */
export function installPlainQuery (engine: object): boolean {
  const server = engine as EngineLike
  const prepare = server.prepare
  if (typeof prepare !== 'function') return false
  server.prepare = function (req: PreparedRequest): void {
    if (req._query === undefined && typeof req.url === 'string') {
      const query = plainQuery(req.url)
      if (query !== undefined) {
        req._query = query
        return
      }
    }
    prepare.call(this, req)
  }
  return true
}
