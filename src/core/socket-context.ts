// The socket context handlers and hooks get: the identity, tenant-scoped rooms, emit and publish.
import type { Identity } from './auth/tokens.js'
import type { PublishInput, PublishResult } from './publish.js'
import { scopedRoom, unscopedRoom } from './rooms.js'
import type { RealtimeSocket } from './socket-types.js'

/**
 * What a plugin's socket handler is given: the socket's identity and tenant-scoped room operations.
 *
 * @example
 * ns.handle('room:join', Join, (ctx, { roomId }) => {
 *   ctx.join(`room:${roomId}`)   // the room of ctx.user.tenantId: no other tenant's room can be named
 *   return { rooms: ctx.rooms() }
 * })
 */
export interface SocketContext {
  /** The Socket.IO socket, for what the context does not cover (emit to this socket, handshake details). */
  readonly socket: RealtimeSocket
  readonly id: string
  readonly user: Identity
  /** The namespace name, e.g. `/` or `/messages`. */
  readonly namespace: string
  /** Joins rooms of the socket's own tenant (`campaign:42` becomes that tenant's campaign 42); no-op once disconnected. */
  join (room: string | readonly string[]): void
  leave (room: string): void
  /** Whether the socket is in the room (of its tenant). */
  isIn (room: string): boolean
  /** The plugin rooms the socket is in, unscoped. */
  rooms (): string[]
  /** Emits to this socket only. */
  emit (event: string, ...args: unknown[]): void
  /** Publishes into the socket's tenant and namespace (`except.socketId` can exclude this socket). */
  publish (input: Omit<PublishInput, 'tenantId' | 'namespace'>): Promise<PublishResult>
}

type Publish = (input: PublishInput) => Promise<PublishResult>

class Context implements SocketContext {
  constructor (readonly socket: RealtimeSocket, readonly publisher: Publish) {}

  get id (): string { return this.socket.id }
  get user (): Identity { return this.socket.data.user }
  get namespace (): string { return this.socket.nsp.name }

  join (room: string | readonly string[]): void {
    // A socket that left while an async check ran must not be added back to rooms (the entry would leak).
    if (!this.socket.connected) return
    const t = this.user.tenantId
    void this.socket.join(typeof room === 'string' ? scopedRoom(t, room) : room.map((r) => scopedRoom(t, r)))
  }

  leave (room: string): void { void this.socket.leave(scopedRoom(this.user.tenantId, room)) }

  isIn (room: string): boolean { return this.socket.rooms.has(scopedRoom(this.user.tenantId, room)) }

  rooms (): string[] {
    const out: string[] = []
    for (const r of this.socket.rooms) {
      const name = unscopedRoom(r)
      if (name !== undefined) out.push(name)
    }
    return out
  }

  emit (event: string, ...args: unknown[]): void { this.socket.emit(event, ...args) }

  async publish (input: Omit<PublishInput, 'tenantId' | 'namespace'>): Promise<PublishResult> {
    return await this.publisher({ ...input, tenantId: this.user.tenantId, namespace: this.socket.nsp.name })
  }
}

/** Checks an event emitted to one socket against the catalogs of its namespace (contracts.validateEmits). */
export type EmitCheck = (namespace: string, event: string, payload: unknown) => void

/** The context when emits are checked: a class of its own, so that the unchecked one pays nothing. */
class CheckedContext extends Context {
  constructor (socket: RealtimeSocket, publisher: Publish, readonly check: EmitCheck) { super(socket, publisher) }

  override emit (event: string, ...args: unknown[]): void {
    this.check(this.socket.nsp.name, event, args[0])
    this.socket.emit(event, ...args)
  }
}

const kContext = Symbol('rt.context')
type WithContext = RealtimeSocket & { [kContext]?: Context }

/** The socket's context, created once per socket; its `emit` is checked when `check` is given. */
export function contextOf (socket: RealtimeSocket, publish: Publish, check?: EmitCheck): SocketContext {
  const s = socket as WithContext
  return (s[kContext] ??= check === undefined ? new Context(socket, publish) : new CheckedContext(socket, publish, check))
}
