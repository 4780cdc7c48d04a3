import type { Socket } from 'socket.io'
import {
  AuthNoToken, AuthRefreshRefused, AuthUserMismatch, clientError, isCatalogError, type RealtimeError
} from '../errors.js'
import { bareToken, type Identity, type TokenVerifier } from './tokens.js'

const kExpiry = Symbol('rt.expiry')
/** Per socket: the second its token expires in (its bucket in the wheel), or the grace timer once expired. */
type TimedSocket = Socket & { [kExpiry]?: number | NodeJS.Timeout }

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

/** How often the wheel looks for expired tokens, in ms: expiry is noticed at most this late. */
const TICK_MS = 250

/**
 * Token expiry of connected sockets. When a socket's token expires it receives `auth:expired`
 * { expiredAt, graceMs } and, unless a valid `auth:refresh` arrives first, is disconnected `graceMs` later.
 *
 * Sockets wait in buckets by the second their token expires in, and one timer, running only while a
 * bucket is waiting, takes out the due ones: a timer per socket would cost memory and, each socket's
 * delay being different, a Node timer list per socket.
 */
export class ExpiryWheel {
  readonly #buckets = new Map<number, Set<TimedSocket>>()
  readonly #graceMs: number
  /** Buckets up to this second have been taken out. */
  #done = 0
  #timer: NodeJS.Timeout | undefined

  constructor (graceMs: number) {
    this.#graceMs = graceMs
  }

  /** Arms (or re-arms, after a refresh) the expiry of the socket's current token. */
  arm (socket: Socket): void {
    this.disarm(socket)
    if (!socket.connected) return
    const exp = (socket.data.user as Identity).exp
    if (exp === undefined) return
    if (this.#timer === undefined) {
      this.#done = Math.floor(Date.now() / 1000) - 1
      this.#timer = setInterval(() => { this.#tick() }, TICK_MS).unref()
    }
    // A token already expired (within the clock tolerance) goes into the next bucket taken out.
    const second = Math.max(Math.ceil(exp), this.#done + 1)
    let bucket = this.#buckets.get(second)
    if (bucket === undefined) this.#buckets.set(second, bucket = new Set())
    bucket.add(socket)
    ;(socket as TimedSocket)[kExpiry] = second
  }

  disarm (socket: Socket): void {
    const s = socket as TimedSocket
    const armed = s[kExpiry]
    if (armed === undefined) return
    s[kExpiry] = undefined
    if (typeof armed !== 'number') {
      clearTimeout(armed)
      return
    }
    const bucket = this.#buckets.get(armed)
    if (bucket !== undefined && bucket.delete(s) && bucket.size === 0) this.#buckets.delete(armed)
    this.#stopWhenIdle()
  }

  #close (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #tick (): void {
    const now = Math.floor(Date.now() / 1000)
    if (now - this.#done > this.#buckets.size) {
      // A long gap (a clock jump): look at the buckets rather than at every second in between.
      for (const second of [...this.#buckets.keys()]) if (second <= now) this.#expire(second)
    } else {
      for (let second = this.#done + 1; second <= now; second++) this.#expire(second)
    }
    this.#done = now
    this.#stopWhenIdle()
  }

  #expire (second: number): void {
    const bucket = this.#buckets.get(second)
    if (bucket === undefined) return
    this.#buckets.delete(second)
    for (const socket of bucket) {
      const expiredAt = new Date(((socket.data.user as Identity).exp ?? 0) * 1000).toISOString()
      socket[kExpiry] = setTimeout(() => { socket.disconnect(true) }, this.#graceMs)
      socket.emit('auth:expired', { expiredAt, graceMs: this.#graceMs })
    }
  }

  #stopWhenIdle (): void {
    if (this.#buckets.size === 0) this.#close()
  }
}

/** `auth:refresh` { token }: a valid token for the same user and tenant replaces the old one and re-arms the expiry. */
export async function refreshToken (socket: Socket, verifier: TokenVerifier, data: unknown, expiry: ExpiryWheel): Promise<{ ok: true, exp: number | null }> {
  const token = bareToken((data as { token?: unknown } | null)?.token ?? data)
  if (token === undefined) throw new AuthRefreshRefused('no token')
  let identity: Identity
  try {
    identity = await verifier.verify(token)
  } catch (err) {
    throw new AuthRefreshRefused(isCatalogError(err) ? err.message.replace('Authentication failed: ', '') : 'Invalid token')
  }
  // The check may have waited (a JWKS fetch): a socket gone meanwhile gets no expiry and no rooms.
  if (!socket.connected) throw new AuthRefreshRefused('the socket disconnected')
  const current = socket.data.user as Identity
  if (identity.userId !== current.userId || identity.tenantId !== current.tenantId) {
    throw new AuthRefreshRefused('the token is for another user or tenant')
  }
  socket.data.user = identity
  expiry.arm(socket)
  return { ok: true, exp: identity.exp ?? null }
}
