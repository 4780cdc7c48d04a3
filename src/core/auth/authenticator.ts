// The token checks of every connection transport (Socket.IO, a plugin's plain WebSocket): read, verify, refresh.
import type { IncomingMessage } from 'node:http'
import { AuthInvalidToken, AuthNoToken, AuthRefreshRefused, isCatalogError, type RealtimeError } from '../../lib/errors.js'
import { validationError } from '../../lib/validation.js'
import { bareToken, bearerToken } from './credentials.js'
import type { Identity, TokenVerifier } from './tokens.js'

/**
 * One way to authenticate a connection, whatever carries it: the Socket.IO handshake and `auth:refresh` use
 * it, and so does a plugin's own transport (as `app.realtime.auth`). REST requests have `RestAuthenticator`.
 */
export interface Authenticator {
  /**
   * The token of an HTTP upgrade request: the `?token=` query parameter (`Bearer ` optional), else the
   * `Authorization: Bearer` header; undefined when there is neither.
   *
   * @example
   * const identity = await auth.verify(auth.token(request))
   */
  token (request: IncomingMessage): string | undefined
  /**
   * The identity of a token, checked as the Socket.IO handshake checks it. No token rejects with
   * RT_ERR_AUTH_NO_TOKEN; it rejects only with RT_ERR_AUTH_* catalog errors (message `Authentication failed: ...`).
   */
  verify (token: string | undefined): Promise<Identity>
  /**
   * The identity a refresh gives a connection that speaks for `current`, as `auth:refresh` checks it: the
   * payload is `{ token }` or the bare token string (`Bearer ` optional), else RT_ERR_VALIDATION naming
   * `token`; the token must verify and be for the same user and tenant, else RT_ERR_AUTH_REFRESH
   * (`Token refresh refused: <reason>`).
   */
  refresh (current: Identity, payload: unknown): Promise<Identity>
}

const isAuthError = (err: unknown): err is RealtimeError => isCatalogError(err) && err.code.startsWith('RT_ERR_AUTH_')

/** The token of a refresh payload: `{ token }` or the token string, with or without `Bearer `. */
function refreshToken (payload: unknown): string {
  const value = typeof payload === 'object' && payload !== null ? (payload as { token?: unknown }).token : payload
  const token = bareToken(value)
  if (token === undefined) throw validationError({ field: 'token', message: 'must be a non-empty string (the JWT, `Bearer ` optional)' })
  return token
}

/** Any failure of a token check as an `RT_ERR_AUTH_*` error (an unexpected one as RT_ERR_AUTH_INVALID_TOKEN with it as cause). */
const asAuthError = (err: unknown): RealtimeError => isAuthError(err) ? err : new AuthInvalidToken({ cause: err })

/**
 * What `Authenticator.verify` does, decided at once when the verifier can (a secret or a public key): the
 * identity, or a thrown `RT_ERR_AUTH_*` error; a promise (rejecting with one) only when a key is fetched.
 */
export function checkToken (verifier: TokenVerifier, token: string | undefined): Identity | Promise<Identity> {
  if (token === undefined) throw new AuthNoToken()
  let identity: Identity | Promise<Identity>
  try {
    identity = verifier.check(token)
  } catch (err) {
    throw asAuthError(err)
  }
  return identity instanceof Promise ? identity.catch((err: unknown) => { throw asAuthError(err) }) : identity
}

export function createAuthenticator (verifier: TokenVerifier): Authenticator {
  const verify = async (token: string | undefined): Promise<Identity> => await checkToken(verifier, token)

  return {
    token (request) {
      const url = request.url ?? ''
      const query = url.indexOf('?')
      const fromQuery = query < 0 ? undefined : bareToken(new URLSearchParams(url.slice(query + 1)).get('token'))
      return fromQuery ?? bearerToken(request.headers.authorization)
    },

    verify,

    async refresh (current, payload) {
      const token = refreshToken(payload)
      let identity: Identity
      try {
        identity = await verify(token)
      } catch (err) {
        throw new AuthRefreshRefused((err as RealtimeError).detail ?? 'Invalid token', { cause: err })
      }
      if (identity.userId !== current.userId || identity.tenantId !== current.tenantId) {
        throw new AuthRefreshRefused('the token is for another user or tenant')
      }
      return identity
    }
  }
}
