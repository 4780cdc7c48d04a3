/**
 * The presence store: which users of which group (online list and tenant) have sockets, on every node.
 * `memory.ts` serves one node; `redis.ts` is shared by a cluster, with per-node leases (`scripts.ts`: its Lua;
 * `keys.ts`: how groups, rooms and sockets are named in it).
 *
 * Its state changes are atomic, so each transition is reported to exactly one caller on one node, which
 * announces it: `connect` reports `online` for the first socket, `release` or `sweep` report `offline`
 * once the last socket is gone and the debounce passed (or its node died).
 *
 * The same transitions queue the webhook events (`user.online`, `user.offline`; for tracked rooms `member.added`,
 * `member.removed`, `room.occupied`, `room.vacated`, the departures debounced like an offline): the Redis store in
 * the script that makes the change, the memory store as it makes it.
 */
import type { UserState } from '../events.js'

/** One socket's membership of one online list. */
export interface Membership {
  /** Unique per socket and list (see `membershipField`). */
  readonly field: string
  readonly group: string
  readonly userId: string
  /** Tracked rooms the socket is in (as `roomKey`s). */
  readonly rooms: readonly string[]
}

export interface Connected {
  /** `online`: the user's first socket (announce it); `resumed`: a socket came back within the debounce (say nothing). */
  kind: 'online' | 'resumed' | 'none'
  at: number
}

export type Released =
  | { kind: 'none' }
  /** The last socket closed: offline is due in `dueInMs` unless one reconnects. */
  | { kind: 'pending', dueInMs: number }
  /** Offline now (no debounce): announce it. */
  | { kind: 'offline', lastSeen: number }

export interface WentOffline {
  group: string
  userId: string
  lastSeen: number
}

export interface Swept {
  /** Users to announce offline: their debounce ended, or their node died. */
  offline: WentOffline[]
  /** When the next pending offline is due, if any. */
  nextDueInMs?: number
}

export interface OnlineUsers {
  count: number
  users: UserState[]
}

export interface PresenceStore {
  /**
   * Renews this node's lease. True when it had lapsed (or on the first call): the node may have been taken
   * for dead, so its sockets must be registered again (`connect` is idempotent).
   */
  heartbeat (): Promise<boolean>
  connect (m: Membership): Promise<Connected>
  joinRoom (field: string, room: string): Promise<void>
  /** The socket left a room; with `delayMs` > 0 the member's departure is pending that long: returns it then, else 0. */
  leaveRoom (field: string, room: string, delayMs: number): Promise<number>
  /** The socket left the list; with `delayMs` > 0 the offline is pending that long. */
  release (field: string, delayMs: number): Promise<Released>
  /** Releases the sockets of dead nodes and ends due debounces, each exactly once across the cluster. */
  sweep (): Promise<Swept>
  online (group: string, limit: number): Promise<OnlineUsers>
  inRoom (group: string, room: string, limit: number): Promise<OnlineUsers>
  status (group: string, userIds: readonly string[]): Promise<UserState[]>
  /** Graceful shutdown: releases what this node still holds (offline after `delayMs`, decided by the other nodes) and drops its lease. */
  leave (delayMs: number): Promise<void>
}

/** Users sorted by id, the first `limit`, with the full count. */
export function limited (users: UserState[], limit: number): OnlineUsers {
  users.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
  return { count: users.length, users: users.slice(0, limit) }
}
