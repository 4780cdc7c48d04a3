/**
 * The presence store shared by the nodes of a cluster (see `scripts.ts` for the keys and the scripts).
 *
 * Each node holds a lease in `nodes`, renewed by `heartbeat`. Every node sweeps: a node whose lease
 * expired is dead, and its sockets are released in atomic batches by whichever node gets there first, its
 * users going offline at once (the lease already waited longer than a reload). No node is special.
 */
import type { RedisPrimitives } from 'realtime-server'
import type { UserState } from '../events.js'
import { limited, type Connected, type Membership, type OnlineUsers, type PresenceStore, type Released, type Swept, type WentOffline } from './index.js'
import { defineScripts, type WebhookTarget } from './scripts.js'

export interface RedisPresenceStoreOptions {
  nodeId: string
  leaseMs: number
  lastSeenTtlMs: number
  /** Sockets released per script call; bounds how long one call blocks Redis. */
  batch?: number
  /** Where the scripts queue webhook events. */
  webhooks: WebhookTarget
}

/** Batches per sweep: a huge dead node is finished by the next sweeps (or by other nodes in the meantime). */
const MAX_BATCHES = 20
/** Due offlines ended per sweep call. */
const FINALIZE_LIMIT = 1000

/** The store's keys live under `redis.key('')`, the plugin's prefix. */
export class RedisPresenceStore implements PresenceStore {
  readonly #scripts: ReturnType<typeof defineScripts>
  readonly #prefix: string
  readonly #o: Required<RedisPresenceStoreOptions>

  constructor (redis: RedisPrimitives, options: RedisPresenceStoreOptions) {
    this.#scripts = defineScripts(redis, options.webhooks)
    this.#prefix = redis.key('')
    this.#o = { batch: 500, ...options }
  }

  async heartbeat (): Promise<boolean> {
    const { nodeId, leaseMs } = this.#o
    return Number(await this.#scripts.heartbeat(this.#prefix, nodeId, leaseMs)) === 1
  }

  async connect (m: Membership): Promise<Connected> {
    const { nodeId, lastSeenTtlMs } = this.#o
    const [kind, at] = await this.#scripts.connect(this.#prefix, nodeId, m.field, m.group, m.userId, JSON.stringify(m.rooms), lastSeenTtlMs)
    return { kind: kind === 1 ? 'online' : kind === 2 ? 'resumed' : 'none', at: Number(at) }
  }

  async joinRoom (field: string, room: string): Promise<void> {
    await this.#scripts.room(this.#prefix, this.#o.nodeId, field, room, 1, 0)
  }

  async leaveRoom (field: string, room: string, delayMs: number): Promise<number> {
    return Number(await this.#scripts.room(this.#prefix, this.#o.nodeId, field, room, -1, delayMs))
  }

  async release (field: string, delayMs: number): Promise<Released> {
    const { nodeId, lastSeenTtlMs } = this.#o
    const [kind, value] = await this.#scripts.release(this.#prefix, nodeId, field, delayMs, lastSeenTtlMs)
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
    const [nextIn, ended] = await this.#scripts.finalize(this.#prefix, FINALIZE_LIMIT)
    for (let j = 0; j + 2 < ended.length; j += 3) offline.push({ group: ended[j]!, userId: ended[j + 1]!, lastSeen: Number(ended[j + 2]) })
    return Number(nextIn) < 0 ? { offline } : { offline, nextDueInMs: Number(nextIn) }
  }

  async online (group: string, limit: number): Promise<OnlineUsers> {
    return limited(await this.#users(`n:${group}`, group), limit)
  }

  async inRoom (group: string, room: string, limit: number): Promise<OnlineUsers> {
    return limited((await this.#users(`r:${group}:${room}`, group)).filter((u) => u.connections > 0), limit)
  }

  async status (group: string, userIds: readonly string[]): Promise<UserState[]> {
    const [counts, since, seen] = await this.#scripts.status(this.#prefix, group, ...userIds)
    return userIds.map((userId, i) => {
      const n = counts[i]
      const state: UserState = n === null || n === undefined
        ? { userId, online: false, connections: 0 }
        : withSince({ userId, online: true, connections: Number(n) }, since[i])
      const last = seen[i]
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
    await this.#scripts.expireLease(this.#prefix, this.#o.nodeId)
  }

  /** The users of a counts hash (`n:<g>` or `r:<g>:<room>`), with when they came online. */
  async #users (counts: string, group: string): Promise<UserState[]> {
    const [flat, sinceFlat] = await this.#scripts.counts(this.#prefix, counts, group)
    const since = pairs(sinceFlat)
    return [...pairs(flat)].map(([userId, n]) => withSince({ userId, online: true, connections: Number(n) }, since.get(userId)))
  }

  async #reap (node: string, delayMs: number): Promise<Array<string | number>> {
    const { batch, lastSeenTtlMs } = this.#o
    return await this.#scripts.reap(this.#prefix, batch, node, delayMs, lastSeenTtlMs)
  }
}

/** A flat HGETALL reply as a map. */
function pairs (flat: readonly string[]): Map<string, string> {
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!)
  return map
}

function withSince (state: UserState, since: string | null | undefined): UserState {
  if (since !== null && since !== undefined) state.since = Number(since)
  return state
}
