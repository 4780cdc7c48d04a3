import type { Socket } from 'socket.io'
import {
  AuthNoToken, AuthRefreshRefused, AuthUserMismatch, clientError, isCatalogError, type RealtimeError
} from '../errors.js'
import { bareToken, type Identity, type TokenVerifier } from './tokens.js'

/** The longest delay a Node timer accepts; longer token lifetimes re-arm the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1

const kExpiry = Symbol('rt.expiryTimer')
type TimedSocket = Socket & { [kExpiry]?: NodeJS.Timeout }

/** A `connect_error` for the client: message `Authentication failed: ...`, data `{ code, reason: 'auth_error' }`. */
function handshakeError (err: unknown): Error & { data: { code: string, reason: 'auth_error' } } {
  const { code, message } = isCatalogError(err) && err.code.startsWith('RT_ERR_AUTH')
    ? clientError(err)
    : { code: 'RT_ERR_AUTH_INVALID_TOKEN', message: 'Authentication failed: Invalid token' }
  return Object.assign(new Error(message), { data: { code, reason: 'auth_error' as const } })
}

/** The handshake token: `auth.token` (with or without `Bearer `), else the `Authorization: Bearer` header. */
export function handshakeToken (socket: Socket): string | undefined {
  const fromAuth = bareToken(socket.handshake.auth?.token)
  if (fromAuth !== undefined) return fromAuth
  const header = socket.handshake.headers.authorization
  return typeof header === 'string' && /^bearer\s/i.test(header) ? bareToken(header) : undefined
}

/**
 * Socket.IO middleware for every namespace: verifies the JWT and stores the identity on `socket.data.user`.
 * When the handshake carries `auth.userId` it must equal the token's user.
 */
export function socketAuthMiddleware (verifier: TokenVerifier, onRefused: (socket: Socket, err: RealtimeError) => void) {
  return function authenticate (socket: Socket, next: (err?: Error) => void): void {
    const token = handshakeToken(socket)
    if (token === undefined) {
      const err = new AuthNoToken()
      onRefused(socket, err)
      next(handshakeError(err))
      return
    }
    verifier.verify(token).then((identity) => {
      const claimed: unknown = socket.handshake.auth?.userId
      if (claimed !== undefined && claimed !== null && String(claimed) !== identity.userId) {
        const err = new AuthUserMismatch()
        onRefused(socket, err)
        next(handshakeError(err))
        return
      }
      socket.data.user = identity
      next()
    }, (err: RealtimeError) => {
      onRefused(socket, err)
      next(handshakeError(err))
    })
  }
}

/**
 * Arms the socket's expiry: when its token expires it receives `auth:expired` { expiredAt, graceMs } and,
 * unless a valid `auth:refresh` arrives first, is disconnected `graceMs` later.
 */
export function armExpiry (socket: Socket, graceMs: number): void {
  const s = socket as TimedSocket
  if (s[kExpiry] !== undefined) clearTimeout(s[kExpiry])
  s[kExpiry] = undefined
  const exp = (socket.data.user as Identity).exp
  if (exp === undefined) return
  const delay = exp * 1000 - Date.now()
  if (delay > MAX_TIMER_MS) {
    s[kExpiry] = setTimeout(armExpiry, MAX_TIMER_MS, socket, graceMs)
    return
  }
  s[kExpiry] = setTimeout(onExpired, Math.max(delay, 0), socket, graceMs)
}

function onExpired (socket: Socket, graceMs: number): void {
  const s = socket as TimedSocket
  const expiredAt = new Date(((socket.data.user as Identity).exp ?? 0) * 1000).toISOString()
  socket.emit('auth:expired', { expiredAt, graceMs })
  s[kExpiry] = setTimeout(() => { socket.disconnect(true) }, graceMs)
}

export function disarmExpiry (socket: Socket): void {
  const s = socket as TimedSocket
  if (s[kExpiry] !== undefined) clearTimeout(s[kExpiry])
  s[kExpiry] = undefined
}

/** `auth:refresh` { token }: a valid token for the same user and tenant replaces the old one and re-arms the expiry. */
export async function refreshToken (socket: Socket, verifier: TokenVerifier, data: unknown, graceMs: number): Promise<{ ok: true, exp: number | null }> {
  const token = bareToken((data as { token?: unknown } | null)?.token ?? data)
  if (token === undefined) throw new AuthRefreshRefused('no token')
  let identity: Identity
  try {
    identity = await verifier.verify(token)
  } catch (err) {
    throw new AuthRefreshRefused(isCatalogError(err) ? err.message.replace('Authentication failed: ', '') : 'Invalid token')
  }
  const current = socket.data.user as Identity
  if (identity.userId !== current.userId || identity.tenantId !== current.tenantId) {
    throw new AuthRefreshRefused('the token is for another user or tenant')
  }
  socket.data.user = identity
  armExpiry(socket, graceMs)
  return { ok: true, exp: identity.exp ?? null }
}
