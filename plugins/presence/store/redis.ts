/**
 * The presence store shared by the nodes of a cluster (see `scripts.ts` for the keys and the scripts).
 *
 * Each node holds a lease in `nodes`, renewed by `heartbeat`. Every node sweeps: a node whose lease
 * expired is dead, and its sockets are released in atomic batches by whichever node gets there first, its
 * users going offline at once (the lease already waited longer than a reload). No node is special.
 */
import type { UserState } from '../events.js'
import { limited, type Connected, type Membership, type OnlineUsers, type PresenceStore, type Released, type Swept, type WentOffline } from './index.js'
import { scripts, type RedisClient } from './scripts.js'

export interface RedisPresenceStoreOptions {
  /** Key prefix, ending with `:`. */
  prefix: string
  nodeId: string
  leaseMs: number
  lastSeenTtlMs: number
  /** Sockets released per script call; bounds how long one call blocks Redis. */
  batch?: number
}

/** Batches per sweep: a huge dead node is finished by the next sweeps (or by other nodes in the meantime). */
const MAX_BATCHES = 20
/** Due offlines ended per sweep call. */
const FINALIZE_LIMIT = 1000

export class RedisPresenceStore implements PresenceStore {
  readonly #redis: RedisClient
  readonly #o: Required<RedisPresenceStoreOptions>

  constructor (redis: RedisClient, options: RedisPresenceStoreOptions) {
    this.#redis = redis
    this.#o = { batch: 500, ...options }
  }

  async heartbeat (): Promise<boolean> {
    const { prefix, nodeId, leaseMs } = this.#o
    return Number(await scripts.heartbeat.run(this.#redis, [prefix, nodeId, leaseMs])) === 1
  }

  async connect (m: Membership): Promise<Connected> {
    const { prefix, nodeId, lastSeenTtlMs } = this.#o
    const [kind, at] = await scripts.connect.run(this.#redis, [prefix, nodeId, m.field, m.group, m.userId, JSON.stringify(m.rooms), lastSeenTtlMs]) as [number, number]
    return { kind: kind === 1 ? 'online' : kind === 2 ? 'resumed' : 'none', at: Number(at) }
  }

  async joinRoom (field: string, room: string): Promise<void> {
    await scripts.room.run(this.#redis, [this.#o.prefix, this.#o.nodeId, field, room, 1])
  }

  async leaveRoom (field: string, room: string): Promise<void> {
    await scripts.room.run(this.#redis, [this.#o.prefix, this.#o.nodeId, field, room, -1])
  }

  async release (field: string, delayMs: number): Promise<Released> {
    const { prefix, nodeId, lastSeenTtlMs } = this.#o
    const [kind, value] = await scripts.release.run(this.#redis, [prefix, nodeId, field, delayMs, lastSeenTtlMs]) as [number, number]
    if (kind === 1) return { kind: 'pending', dueInMs: Number(value) }
    if (kind === 2) return { kind: 'offline', lastSeen: Number(value) }
    return { kind: 'none' }
  }

  async sweep (): Promise<Swept> {
    const offline: WentOffline[] = []
    for (let i = 0; i < MAX_BATCHES; i++) {
      const out = await this.#reap('', 0)
      if (out.length === 0) break
      for (let j = 2; j < out.length; j += 3) offline.push({ group: String(out[j]), userId: String(out[j + 1]), lastSeen: Number(out[j + 2]) })
    }
    const [nextIn, ended] = await scripts.finalize.run(this.#redis, [this.#o.prefix, FINALIZE_LIMIT]) as [number, string[]]
    for (let j = 0; j < ended.length; j += 3) offline.push({ group: ended[j]!, userId: ended[j + 1]!, lastSeen: Number(ended[j + 2]) })
    return Number(nextIn) < 0 ? { offline } : { offline, nextDueInMs: Number(nextIn) }
  }

  async online (group: string, limit: number): Promise<OnlineUsers> {
    const p = this.#o.prefix
    const res = replies(await this.#redis.pipeline().hgetall(`${p}n:${group}`).hgetall(`${p}since:${group}`).exec())
    const counts = (res?.[0]?.[1] ?? {}) as Record<string, string>
    const since = (res?.[1]?.[1] ?? {}) as Record<string, string>
    const users: UserState[] = Object.keys(counts).map((userId) => withSince({ userId, online: true, connections: Number(counts[userId]) }, since[userId]))
    return limited(users, limit)
  }

  async inRoom (group: string, room: string, limit: number): Promise<OnlineUsers> {
    const p = this.#o.prefix
    const res = replies(await this.#redis.pipeline().hgetall(`${p}r:${group}:${room}`).hgetall(`${p}since:${group}`).exec())
    const counts = (res?.[0]?.[1] ?? {}) as Record<string, string>
    const since = (res?.[1]?.[1] ?? {}) as Record<string, string>
    const users: UserState[] = []
    for (const [userId, n] of Object.entries(counts)) if (Number(n) > 0) users.push(withSince({ userId, online: true, connections: Number(n) }, since[userId]))
    return limited(users, limit)
  }

  async status (group: string, userIds: readonly string[]): Promise<UserState[]> {
    const p = this.#o.prefix
    const res = replies(await this.#redis.pipeline()
      .hmget(`${p}n:${group}`, ...userIds)
      .hmget(`${p}since:${group}`, ...userIds)
      .hmget(`${p}seen:${group}`, ...userIds)
      .exec())
    const [counts, since, seen] = [0, 1, 2].map((i) => (res?.[i]?.[1] ?? []) as Array<string | null>)
    return userIds.map((userId, i) => {
      const n = counts![i]
      const state: UserState = n === null || n === undefined
        ? { userId, online: false, connections: 0 }
        : withSince({ userId, online: true, connections: Number(n) }, since![i])
      const last = seen![i]
      if (last !== null && last !== undefined) state.lastSeen = Number(last)
      return state
    })
  }

  async leave (delayMs: number): Promise<void> {
    // Normally the disconnect hooks released every socket already and this only drops the lease. With a
    // debounce nobody goes offline here: the other nodes end the debounces. Without one, the adapter is
    // already closed, so these users are not announced (only `lastSeen` is kept).
    for (let i = 0; i < MAX_BATCHES; i++) {
      const out = await this.#reap(this.#o.nodeId, delayMs)
      if (Number(out[1]) === 0) return
    }
    // Still holding sockets: expire the lease, so that the other nodes release the rest now.
    await this.#redis.zadd(`${this.#o.prefix}nodes`, 0, this.#o.nodeId)
  }

  async #reap (node: string, delayMs: number): Promise<unknown[]> {
    const { prefix, batch, lastSeenTtlMs } = this.#o
    return await scripts.reap.run(this.#redis, [prefix, batch, node, delayMs, lastSeenTtlMs]) as unknown[]
  }
}

/** A pipeline's replies; a pipeline resolves even when its commands failed (Redis down: every one did), so the first error is thrown. */
function replies (res: Array<[Error | null, unknown]> | null): Array<[Error | null, unknown]> {
  for (const [err] of res ?? []) if (err !== null) throw err
  return res ?? []
}

function withSince (state: UserState, since: string | null | undefined): UserState {
  if (since !== null && since !== undefined) state.since = Number(since)
  return state
}
