/**
 * The presence store of a single node (no Redis): the same transitions as the Redis store, in maps. There is
 * no other node to die, so `heartbeat` never asks for a re-registration and `leave` has nothing to hand over.
 */
import type { UserState } from '../events.js'
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
  readonly #seenTtlMs: number

  constructor (options: { lastSeenTtlMs: number }) {
    this.#seenTtlMs = options.lastSeenTtlMs
  }

  async heartbeat (): Promise<boolean> { return false }

  async connect (m: Membership): Promise<Connected> {
    const at = Date.now()
    if (this.#entries.has(m.field)) return { kind: 'none', at }
    this.#entries.set(m.field, { group: m.group, userId: m.userId, rooms: new Set(m.rooms) })
    for (const r of m.rooms) this.#addRoom(m.group, r, m.userId, 1)
    const users = mapOf(this.#online, m.group)
    const known = users.get(m.userId)
    if (known === undefined) {
      users.set(m.userId, { connections: 1, since: at })
      this.#see(m.group, m.userId, at)
      return { kind: 'online', at }
    }
    known.connections++
    if (known.connections === 1) {
      this.#pending.delete(`${m.group}\n${m.userId}`)
      return { kind: 'resumed', at }
    }
    return { kind: 'none', at }
  }

  async joinRoom (field: string, room: string): Promise<void> {
    const e = this.#entries.get(field)
    if (e === undefined || e.rooms.has(room)) return
    e.rooms.add(room)
    this.#addRoom(e.group, room, e.userId, 1)
  }

  async leaveRoom (field: string, room: string): Promise<void> {
    const e = this.#entries.get(field)
    if (e === undefined || !e.rooms.delete(room)) return
    this.#addRoom(e.group, room, e.userId, -1)
  }

  async release (field: string, delayMs: number): Promise<Released> {
    const e = this.#entries.get(field)
    if (e === undefined) return { kind: 'none' }
    this.#entries.delete(field)
    for (const r of e.rooms) this.#addRoom(e.group, r, e.userId, -1)
    const users = mapOf(this.#online, e.group)
    const known = users.get(e.userId)!
    if (--known.connections > 0) return { kind: 'none' }
    const at = Date.now()
    this.#see(e.group, e.userId, at)
    if (delayMs > 0) {
      this.#pending.set(`${e.group}\n${e.userId}`, at + delayMs)
      return { kind: 'pending', dueInMs: delayMs }
    }
    dropUser(this.#online, e.group, e.userId)
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
      offline.push({ group, userId, lastSeen: this.#seen.get(group)?.get(userId) ?? now })
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

  #addRoom (group: string, room: string, userId: string, by: number): void {
    const key = `${group}\n${room}`
    const users = mapOf(this.#rooms, key)
    const n = (users.get(userId) ?? 0) + by
    if (n > 0) users.set(userId, n)
    else users.delete(userId)
    if (users.size === 0) this.#rooms.delete(key)
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
