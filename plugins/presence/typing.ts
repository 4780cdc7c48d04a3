/**
 * Typing indicators of one namespace, kept per room and user on the node of the typing socket.
 *
 * - `typing:start` broadcasts `isTyping: true` to the room (never to the sender's own sockets), at most
 *   once per `throttleMs` however often it arrives, and (re)arms the expiry;
 * - `typing:stop`, the expiry (`timeoutMs` after the last start) and the socket's disconnection broadcast
 *   `isTyping: false` once;
 * - only a socket that joined the room may type in it.
 */
import type { PublishInput, RealtimeApi, SocketContext } from 'realtime-server'
import { NotInRoom } from './errors.js'
import { typingRoom, type TypingFormat, type TypingPayload } from './rooms.js'
import type { TypingOptions } from './schema.js'

interface Typist {
  readonly tenantId: string
  readonly room: string
  readonly userId: string
  data: TypingPayload
  socketId: string
  sentAt: number
  timer: NodeJS.Timeout
}

export class Typing {
  readonly namespace: string
  readonly format: TypingFormat
  readonly #realtime: RealtimeApi
  readonly #roomOf: (data: TypingPayload) => string
  readonly #timeoutMs: number
  readonly #throttleMs: number
  readonly #typists = new Map<string, Typist>()
  readonly #bySocket = new Map<string, Set<string>>()

  constructor (realtime: RealtimeApi, o: TypingOptions) {
    this.#realtime = realtime
    this.namespace = o.namespace
    this.format = o.format
    this.#roomOf = typingRoom(o.room, o.format)
    this.#timeoutMs = o.timeoutMs
    this.#throttleMs = o.throttleMs
  }

  async start (ctx: SocketContext, data: TypingPayload): Promise<void> {
    const room = this.#roomOf(data)
    if (!ctx.isIn(room)) throw new NotInRoom(room)
    const { tenantId, userId } = ctx.user
    const key = `${tenantId}\n${room}\n${userId}`
    let typist = this.#typists.get(key)
    if (typist === undefined) {
      const timer = setTimeout(() => { void this.#end(key) }, this.#timeoutMs).unref()
      typist = { tenantId, room, userId, data, socketId: ctx.id, sentAt: -Infinity, timer }
      this.#typists.set(key, typist)
    } else {
      this.#bySocket.get(typist.socketId)?.delete(key)
      typist.data = data
      typist.socketId = ctx.id
      // The expiry starts again: one timer per typist, not one per keystroke.
      typist.timer.refresh()
    }
    this.#ofSocket(ctx.id).add(key)
    const now = Date.now()
    if (now - typist.sentAt < this.#throttleMs) return
    typist.sentAt = now
    await this.#realtime.publish(this.#broadcast(typist, true))
  }

  async stop (ctx: SocketContext, data: TypingPayload): Promise<void> {
    const { tenantId, userId } = ctx.user
    await this.#end(`${tenantId}\n${this.#roomOf(data)}\n${userId}`)
  }

  /** The socket closed: everything it was typing ends. */
  async disconnected (ctx: SocketContext): Promise<void> {
    const keys = this.#bySocket.get(ctx.id)
    if (keys === undefined) return
    this.#bySocket.delete(ctx.id)
    await Promise.all([...keys].map(async (key) => { await this.#end(key) }))
  }

  /** Shutdown: timers stop without broadcasting (the sockets are gone). */
  close (): void {
    for (const t of this.#typists.values()) clearTimeout(t.timer)
    this.#typists.clear()
    this.#bySocket.clear()
  }

  async #end (key: string): Promise<void> {
    const typist = this.#typists.get(key)
    if (typist === undefined) return
    this.#typists.delete(key)
    clearTimeout(typist.timer)
    this.#bySocket.get(typist.socketId)?.delete(key)
    try {
      await this.#realtime.publish(this.#broadcast(typist, false))
    } catch (err) {
      this.#realtime.log.error({ err, room: typist.room }, 'typing stop not sent')
    }
  }

  #broadcast (t: Typist, isTyping: boolean): PublishInput {
    const payload = this.format === 'conversation'
      ? { conversationId: t.data.conversationId, userId: t.userId, isTyping }
      : { contactId: t.data.contactId, whatsappAccountId: t.data.whatsappAccountId, isTyping, userId: t.userId, timestamp: new Date().toISOString() }
    const event = this.format === 'contact' ? 'typing:indicator' : isTyping ? 'typing:start' : 'typing:stop'
    // A start may be dropped for a client that is not ready (the next one comes); a stop may not.
    return { tenantId: t.tenantId, namespace: this.namespace, rooms: [t.room], except: { users: [t.userId] }, event, payload, volatile: isTyping }
  }

  #ofSocket (socketId: string): Set<string> {
    let keys = this.#bySocket.get(socketId)
    if (keys === undefined) {
      keys = new Set()
      this.#bySocket.set(socketId, keys)
    }
    return keys
  }
}
