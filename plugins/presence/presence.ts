/**
 * Presence on this node: follows the sockets of the tracked namespaces (connections, tracked rooms,
 * disconnections) into the store, and announces the transitions the store reports. The work of one
 * socket is queued, so its connect, room changes and release reach the store in order; the disconnect
 * hook returns the queue, which the core awaits before Redis closes.
 */
import type { RealtimeApi, SocketContext } from 'realtime-server'
import type { UserState } from './events.js'
import { announcement, tracksRoom, tracksUser, type OnlineList } from './online-lists.js'
import type { OnlineUsers, PresenceStore } from './store/index.js'
import { groupKey, membershipField, parseGroup, roomKey } from './store/keys.js'

/** One socket in one list, on this node. */
interface Local {
  readonly list: OnlineList
  readonly ctx: SocketContext
  readonly field: string
  readonly group: string
  /** Tracked rooms the socket is in (plain names). */
  readonly rooms: Set<string>
  queue: Promise<void>
  /** Whether the store has it (a failed registration is retried at the next tick). */
  registered: boolean
}

/** The offline debounce: how long a user without sockets stays online, and who is told when one is pending. */
export interface OfflineDebounce {
  delayMs: number
  /** Called when an offline is pending, with when it is due. */
  onPending: (dueInMs: number) => void
}

export class Presence {
  readonly lists: ReadonlyMap<string, OnlineList>
  readonly #realtime: RealtimeApi
  readonly #store: PresenceStore
  readonly #debounce: OfflineDebounce
  readonly #locals = new Map<string, Local>()
  readonly #bySocket = new Map<string, Local[]>()
  /** Sockets gone whose release failed (Redis unreachable): retried at the next tick. */
  readonly #unreleased = new Map<string, Local>()
  readonly #watched = new WeakSet<object>()

  constructor (realtime: RealtimeApi, store: PresenceStore, lists: ReadonlyMap<string, OnlineList>, debounce: OfflineDebounce) {
    this.#realtime = realtime
    this.#store = store
    this.lists = lists
    this.#debounce = debounce
  }

  /** Users with a socket on this node, per online list (its namespace): what the `online_users` gauge reads when scraped. */
  onlineHere (): Array<[string[], number]> {
    const users = new Map<string, Set<string>>()
    for (const list of this.lists.values()) users.set(list.namespace, new Set())
    for (const local of this.#locals.values()) users.get(local.list.namespace)?.add(`${local.group}\u0000${local.ctx.user.userId}`)
    return [...users].map(([namespace, set]) => [[namespace], set.size])
  }

  /** Declares the namespaces and hooks (during setup). */
  register (): void {
    for (const list of this.lists.values()) {
      this.#realtime.namespace(list.namespace)
      for (const name of list.track) {
        this.#realtime.namespace(name)
          .onConnection((ctx) => this.#connected(list, ctx))
          .onDisconnect((ctx) => this.#disconnected(list, ctx))
      }
    }
  }

  /** One round of the node's periodic work; returns when the next debounce ends, if known. */
  async tick (): Promise<number | undefined> {
    const lapsed = await this.#store.heartbeat()
    // A lapsed lease: other nodes may have released this node's sockets, so all are registered again.
    for (const local of this.#locals.values()) if (lapsed || !local.registered) void this.#register(local)
    for (const local of this.#unreleased.values()) void this.#release(local)
    const { offline, nextDueInMs } = await this.#store.sweep()
    await Promise.all(offline.map(async ({ group, userId, lastSeen }) => { await this.#announce(group, userId, false, lastSeen) }))
    return nextDueInMs
  }

  /** Graceful shutdown: whatever this node still holds is released; the other nodes end the debounces. */
  async leave (): Promise<void> {
    await Promise.allSettled([...this.#locals.values(), ...this.#unreleased.values()].map(async (l) => await l.queue))
    await this.#store.leave(this.#debounce.delayMs)
  }

  /** Resolves once this socket's own presence is in the store (so that it sees itself in queries). */
  async settled (socketId: string): Promise<void> {
    await Promise.all((this.#bySocket.get(socketId) ?? []).map(async (l) => await l.queue))
  }

  async online (list: OnlineList, tenantId: string, limit: number): Promise<OnlineUsers> {
    return await this.#store.online(groupKey(list.namespace, tenantId), limit)
  }

  async inRoom (list: OnlineList, tenantId: string, room: string, limit: number): Promise<OnlineUsers> {
    return await this.#store.inRoom(groupKey(list.namespace, tenantId), roomKey(room), limit)
  }

  async status (list: OnlineList, tenantId: string, userIds: readonly string[]): Promise<UserState[]> {
    return await this.#store.status(groupKey(list.namespace, tenantId), userIds)
  }

  #connected (list: OnlineList, ctx: SocketContext): Promise<void> | undefined {
    const { tenantId, roles } = ctx.user
    if (!tracksUser(list, roles)) return undefined
    const local: Local = {
      list,
      ctx,
      field: membershipField(ctx.id, list.namespace),
      group: groupKey(list.namespace, tenantId),
      rooms: new Set(ctx.rooms().filter((r) => tracksRoom(list, r))),
      queue: Promise.resolve(),
      registered: false
    }
    this.#locals.set(local.field, local)
    const ofSocket = this.#bySocket.get(ctx.id)
    if (ofSocket === undefined) {
      this.#bySocket.set(ctx.id, [local])
      // Rooms are left one by one as the socket closes; its release drops them all at once.
      ctx.socket.once('disconnecting', () => { this.#bySocket.delete(ctx.id) })
    } else {
      ofSocket.push(local)
    }
    if (list.rooms.length > 0) this.#watchRooms(ctx)
    return this.#register(local)
  }

  /** Puts the socket in the store (idempotent) and announces the user when it is their first socket. */
  #register (local: Local): Promise<void> {
    const { userId, tenantId } = local.ctx.user
    return this.#enqueue(local, async () => {
      const { kind, at } = await this.#store.connect({ field: local.field, group: local.group, userId, rooms: [...local.rooms].map(roomKey) })
      local.registered = true
      if (kind === 'online') await this.#realtime.publish(announcement(local.list, tenantId, userId, true, at))
    })
  }

  #disconnected (list: OnlineList, ctx: SocketContext): Promise<void> | undefined {
    const local = this.#locals.get(membershipField(ctx.id, list.namespace))
    if (local === undefined) return undefined
    this.#locals.delete(local.field)
    return this.#release(local)
  }

  /** Takes the socket out of the store; the user goes offline once the debounce ends (or at once without one). */
  #release (local: Local): Promise<void> {
    this.#unreleased.set(local.field, local)
    return this.#enqueue(local, async () => {
      const released = await this.#store.release(local.field, this.#debounce.delayMs)
      this.#unreleased.delete(local.field)
      if (released.kind === 'pending') this.#debounce.onPending(released.dueInMs)
      else if (released.kind === 'offline') await this.#announce(local.group, local.ctx.user.userId, false, released.lastSeen)
    })
  }

  /** Follows room changes of the namespace's sockets (other plugins join them to rooms after they connect). */
  #watchRooms (ctx: SocketContext): void {
    const adapter = ctx.socket.nsp.adapter
    if (this.#watched.has(adapter)) return
    this.#watched.add(adapter)
    const changed = (_room: string, socketId: string): void => { this.#roomsChanged(socketId) }
    adapter.on('join-room', changed)
    adapter.on('leave-room', changed)
  }

  #roomsChanged (socketId: string): void {
    for (const local of this.#bySocket.get(socketId) ?? []) {
      if (local.list.rooms.length === 0) continue
      const now = new Set(local.ctx.rooms().filter((r) => tracksRoom(local.list, r)))
      for (const room of now) {
        if (local.rooms.has(room)) continue
        local.rooms.add(room)
        void this.#enqueue(local, async () => { await this.#store.joinRoom(local.field, roomKey(room)) })
      }
      for (const room of local.rooms) {
        if (now.has(room)) continue
        local.rooms.delete(room)
        void this.#enqueue(local, async () => {
          const dueInMs = await this.#store.leaveRoom(local.field, roomKey(room), this.#debounce.delayMs)
          if (dueInMs > 0) this.#debounce.onPending(dueInMs)
        })
      }
    }
  }

  async #announce (group: string, userId: string, online: boolean, at: number): Promise<void> {
    const { list: name, tenantId } = parseGroup(group)
    const list = this.lists.get(name)
    if (list === undefined) return // a list removed from the config since
    await this.#realtime.publish(announcement(list, tenantId, userId, online, at))
  }

  #enqueue (local: Local, op: () => Promise<void>): Promise<void> {
    local.queue = local.queue.then(op).catch((err: unknown) => {
      this.#realtime.log.error({ err, socketId: local.ctx.id, list: local.list.namespace }, 'presence update failed')
    })
    return local.queue
  }
}
