/**
 * The presence store of a single node (no Redis): the same transitions as the Redis store, in maps. There is
 * no other node to die, so `heartbeat` never asks for a re-registration and `leave` has nothing to hand over.
 */
import type { WebhookEvent } from 'realtime-server'
import type { UserState } from '../events.js'
import { parseGroup } from './keys.js'
import { limited, type Connected, type Membership, type OnlineUsers, type PresenceStore, type Released, type Swept, type WentOffline } from './index.js'

interface Entry {
  group: string
  userId: string
  rooms: Set<string>
}

interface Online {
  /** Sockets; 0 while the offline is pending. */
  connections: number
  since: number
}

export class MemoryPresenceStore implements PresenceStore {
  readonly #entries = new Map<string, Entry>()
  readonly #online = new Map<string, Map<string, Online>>()
  readonly #rooms = new Map<string, Map<string, number>>()
  readonly #seen = new Map<string, Map<string, number>>()
  /** `group\nuserId` -> when the offline is due. */
  readonly #pending = new Map<string, number>()
  /** `group\nroom\nuserId` -> when the member's departure from the room is due (it stays in the room with 0 sockets until then). */
  readonly #roomPending = new Map<string, number>()
  readonly #seenTtlMs: number
  readonly #hook: (event: WebhookEvent) => void

  /** `hook` gets the webhook events of the transitions (the caller keeps the ones some endpoint wants). */
  constructor (options: { lastSeenTtlMs: number, hook?: (event: WebhookEvent) => void }) {
    this.#seenTtlMs = options.lastSeenTtlMs
    this.#hook = options.hook ?? (() => {})
  }

  async heartbeat (): Promise<boolean> { return false }

  async connect (m: Membership): Promise<Connected> {
    const at = Date.now()
    if (this.#entries.has(m.field)) return { kind: 'none', at }
    this.#entries.set(m.field, { group: m.group, userId: m.userId, rooms: new Set(m.rooms) })
    const users = mapOf(this.#online, m.group)
    const known = users.get(m.userId)
    let kind: Connected['kind'] = 'none'
    if (known === undefined) {
      users.set(m.userId, { connections: 1, since: at })
      this.#see(m.group, m.userId, at)
      this.#emit('user.online', m.group, { userId: m.userId }, at)
      kind = 'online'
    } else if (++known.connections === 1) {
      this.#pending.delete(`${m.group}\n${m.userId}`)
      kind = 'resumed'
    }
    for (const r of m.rooms) this.#joinRoom(m.group, r, m.userId, at)
    return { kind, at }
  }

  async joinRoom (field: string, room: string): Promise<void> {
    const e = this.#entries.get(field)
    if (e === undefined || e.rooms.has(room)) return
    e.rooms.add(room)
    this.#joinRoom(e.group, room, e.userId, Date.now())
  }

  async leaveRoom (field: string, room: string, delayMs: number): Promise<number> {
    const e = this.#entries.get(field)
    if (e === undefined || !e.rooms.delete(room)) return 0
    return this.#leaveRoom(e.group, room, e.userId, delayMs, Date.now())
  }

  async release (field: string, delayMs: number): Promise<Released> {
    const e = this.#entries.get(field)
    if (e === undefined) return { kind: 'none' }
    this.#entries.delete(field)
    const at = Date.now()
    for (const r of e.rooms) this.#leaveRoom(e.group, r, e.userId, delayMs, at)
    const users = mapOf(this.#online, e.group)
    const known = users.get(e.userId)!
    if (--known.connections > 0) return { kind: 'none' }
    this.#see(e.group, e.userId, at)
    if (delayMs > 0) {
      this.#pending.set(`${e.group}\n${e.userId}`, at + delayMs)
      return { kind: 'pending', dueInMs: delayMs }
    }
    dropUser(this.#online, e.group, e.userId)
    this.#emit('user.offline', e.group, { userId: e.userId, lastSeen: at }, at)
    return { kind: 'offline', lastSeen: at }
  }

  async sweep (): Promise<Swept> {
    const now = Date.now()
    const offline: WentOffline[] = []
    let next: number | undefined
    for (const [member, due] of this.#pending) {
      if (due > now) {
        next = next === undefined ? due : Math.min(next, due)
        continue
      }
      this.#pending.delete(member)
      const i = member.indexOf('\n')
      const group = member.slice(0, i)
      const userId = member.slice(i + 1)
      dropUser(this.#online, group, userId)
      const lastSeen = this.#seen.get(group)?.get(userId) ?? now
      this.#emit('user.offline', group, { userId, lastSeen }, now)
      offline.push({ group, userId, lastSeen })
    }
    for (const [member, due] of this.#roomPending) {
      if (due > now) {
        next = next === undefined ? due : Math.min(next, due)
        continue
      }
      this.#roomPending.delete(member)
      const [group, room, userId] = member.split('\n') as [string, string, string]
      if (this.#rooms.get(`${group}\n${room}`)?.get(userId) === 0) this.#memberGone(group, room, userId, now)
    }
    this.#forgetOld(now)
    return next === undefined ? { offline } : { offline, nextDueInMs: next - now }
  }

  async online (group: string, limit: number): Promise<OnlineUsers> {
    const users: UserState[] = []
    for (const [userId, o] of this.#online.get(group) ?? []) users.push({ userId, online: true, connections: o.connections, since: o.since })
    return limited(users, limit)
  }

  async inRoom (group: string, room: string, limit: number): Promise<OnlineUsers> {
    const users: UserState[] = []
    const online = this.#online.get(group)
    for (const [userId, connections] of this.#rooms.get(`${group}\n${room}`) ?? []) {
      if (connections === 0) continue // leaving (debounced)
      users.push({ userId, online: true, connections, since: online?.get(userId)?.since })
    }
    return limited(users, limit)
  }

  async status (group: string, userIds: readonly string[]): Promise<UserState[]> {
    const online = this.#online.get(group)
    const seen = this.#seen.get(group)
    return userIds.map((userId) => {
      const o = online?.get(userId)
      const lastSeen = seen?.get(userId)
      if (o !== undefined) return { userId, online: true, connections: o.connections, since: o.since, lastSeen }
      return lastSeen === undefined ? { userId, online: false, connections: 0 } : { userId, online: false, connections: 0, lastSeen }
    })
  }

  async leave (): Promise<void> {}

  #joinRoom (group: string, room: string, userId: string, at: number): void {
    const key = `${group}\n${room}`
    const occupied = this.#rooms.has(key)
    const users = mapOf(this.#rooms, key)
    const n = users.get(userId)
    users.set(userId, (n ?? 0) + 1)
    if (n !== undefined) {
      if (n === 0) this.#roomPending.delete(`${key}\n${userId}`)
      return
    }
    if (!occupied) this.#emit('room.occupied', group, { room: decodeURIComponent(room) }, at)
    this.#emit('member.added', group, { room: decodeURIComponent(room), userId }, at)
  }

  /** Returns the debounce when the member's departure is now pending, else 0. */
  #leaveRoom (group: string, room: string, userId: string, delayMs: number, at: number): number {
    const key = `${group}\n${room}`
    const users = this.#rooms.get(key)
    const was = users?.get(userId)
    if (users === undefined || was === undefined || was <= 0) return 0
    users.set(userId, was - 1)
    if (was > 1) return 0
    if (delayMs > 0) {
      this.#roomPending.set(`${key}\n${userId}`, at + delayMs)
      return delayMs
    }
    this.#memberGone(group, room, userId, at)
    return 0
  }

  #memberGone (group: string, room: string, userId: string, at: number): void {
    const key = `${group}\n${room}`
    const users = this.#rooms.get(key)!
    users.delete(userId)
    this.#emit('member.removed', group, { room: decodeURIComponent(room), userId }, at)
    if (users.size > 0) return
    this.#rooms.delete(key)
    this.#emit('room.vacated', group, { room: decodeURIComponent(room) }, at)
  }

  #emit (type: string, group: string, data: Record<string, unknown>, at: number): void {
    const { list, tenantId } = parseGroup(group)
    this.#hook({ type, tenantId, data: { ...data, namespace: list }, at })
  }

  #see (group: string, userId: string, at: number): void {
    mapOf(this.#seen, group).set(userId, at)
  }

  /** Drops `lastSeen` entries older than the TTL (the Redis store expires whole groups instead). */
  #forgetOld (now: number): void {
    for (const [group, seen] of this.#seen) {
      for (const [userId, at] of seen) if (now - at > this.#seenTtlMs && this.#online.get(group)?.has(userId) !== true) seen.delete(userId)
      if (seen.size === 0) this.#seen.delete(group)
    }
  }
}

function dropUser (maps: Map<string, Map<string, unknown>>, group: string, userId: string): void {
  const users = maps.get(group)
  users?.delete(userId)
  if (users?.size === 0) maps.delete(group)
}

function mapOf<V> (maps: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let m = maps.get(key)
  if (m === undefined) {
    m = new Map()
    maps.set(key, m)
  }
  return m
}
