// The Socket.IO handshake: the token it carries, and the middleware that authenticates every namespace socket.
import { AuthUserMismatch, type RealtimeError } from '../../lib/errors.js'
import { checkToken } from './authenticator.js'
import { bareToken, bearerToken } from './credentials.js'
import type { RealtimeSocket } from '../socket-types.js'
import type { Identity, TokenVerifier } from './tokens.js'

/** A `connect_error` for the client: message `Authentication failed: ...`, data `{ code, reason: 'auth_error' }`. */
function handshakeError (err: RealtimeError): Error & { data: { code: string, reason: 'auth_error' } } {
  return Object.assign(new Error(err.message), { data: { code: err.code, reason: 'auth_error' as const } })
}

/** The handshake token: `auth.token` (with or without `Bearer `), else the `Authorization: Bearer` header. */
export function handshakeToken (socket: RealtimeSocket): string | undefined {
  const fromAuth = bareToken(socket.handshake.auth?.token)
  if (fromAuth !== undefined) return fromAuth
  return bearerToken(socket.handshake.headers.authorization)
}

/** `auth.userId` names the token's user: the same string, or the same number. */
const sameUser = (claimed: unknown, userId: string): boolean =>
  (typeof claimed === 'string' && claimed === userId) || (typeof claimed === 'number' && String(claimed) === userId)

/**
 * Socket.IO middleware for every namespace: verifies the JWT and stores the identity on `socket.data.user`.
 * When the handshake carries `auth.userId` it must be a string or a number equal to the token's user
 * (`["u1"]` is not `"u1"`). The token is checked with `checkToken`, as `Authenticator.verify` checks it: one
 * checked at once (a secret or a public key) goes on to the next middleware in the same call, with no promise.
 */
export function handshakeMiddleware (verifier: TokenVerifier, onRefused: (socket: RealtimeSocket, err: RealtimeError) => void) {
  const refuse = (socket: RealtimeSocket, err: RealtimeError, next: (err?: Error) => void): void => {
    onRefused(socket, err)
    next(handshakeError(err))
  }
  const admit = (socket: RealtimeSocket, identity: Identity, next: (err?: Error) => void): void => {
    const claimed: unknown = socket.handshake.auth?.userId
    if (claimed !== undefined && claimed !== null && !sameUser(claimed, identity.userId)) {
      refuse(socket, typeof claimed === 'string' || typeof claimed === 'number' ? new AuthUserMismatch() : new AuthUserMismatch('auth.userId must be a string or a number'), next)
      return
    }
    socket.data.user = identity
    next()
  }
  return function authenticate (socket: RealtimeSocket, next: (err?: Error) => void): void {
    let identity: Identity | Promise<Identity>
    try {
      identity = checkToken(verifier, handshakeToken(socket))
    } catch (err) {
      refuse(socket, err as RealtimeError, next)
      return
    }
    if (identity instanceof Promise) identity.then((id) => { admit(socket, id, next) }, (err: RealtimeError) => { refuse(socket, err, next) })
    else admit(socket, identity, next)
  }
}
