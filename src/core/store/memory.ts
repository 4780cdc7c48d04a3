// The shared store in memory (one node): the SharedStore contract, JSON values, expiry by sweep.
import type { SharedStore, TtlOptions } from './types.js'

type Value = string | Map<string, string> | string[] | Set<string> | Map<string, number>

interface Entry {
  value: Value
  expiresAt: number
}

const SWEEP_MS = 5000

/**
 * The single-node store. Values are kept as JSON text so that callers see copies, exactly as with Redis.
 * Expired keys vanish on access and in a periodic sweep.
 */
export class MemoryStoreBackend {
  readonly #data = new Map<string, Entry>()
  readonly #timer: NodeJS.Timeout

  constructor () {
    this.#timer = setInterval(() => { this.sweep() }, SWEEP_MS)
    this.#timer.unref()
  }

  sweep (now = Date.now()): void {
    for (const [key, entry] of this.#data) if (entry.expiresAt <= now) this.#data.delete(key)
  }

  read<V extends Value> (key: string): V | undefined {
    const entry = this.#data.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.#data.delete(key)
      return undefined
    }
    return entry.value as V
  }

  write (key: string, value: Value, ttlMs?: number): void {
    const old = this.#data.get(key)
    const expiresAt = ttlMs !== undefined ? Date.now() + ttlMs : old !== undefined && old.expiresAt > Date.now() ? old.expiresAt : Infinity
    this.#data.set(key, { value, expiresAt })
  }

  /** The container at `key`, created when missing; applies the TTL when given. */
  container<V extends Value> (key: string, create: () => V, ttlMs?: number): V {
    let value = this.read<V>(key)
    if (value === undefined) {
      value = create()
      this.#data.set(key, { value, expiresAt: Infinity })
    }
    if (ttlMs !== undefined) this.#data.get(key)!.expiresAt = Date.now() + ttlMs
    return value
  }

  remove (key: string): boolean {
    return this.read(key) !== undefined && this.#data.delete(key)
  }

  expire (key: string, ttlMs: number): boolean {
    if (this.read(key) === undefined) return false
    this.#data.get(key)!.expiresAt = Date.now() + ttlMs
    return true
  }

  /** Drops empty containers, as Redis does. */
  pruneIfEmpty (key: string, size: number): void {
    if (size === 0) this.#data.delete(key)
  }

  close (): void {
    clearInterval(this.#timer)
    this.#data.clear()
  }
}

const parse = <T>(text: string | undefined): T | undefined => (text === undefined ? undefined : JSON.parse(text) as T)

export function memoryStore (backend: MemoryStoreBackend, prefix = ''): SharedStore {
  const k = (key: string): string => prefix + key
  const ttl = (o?: TtlOptions): number | undefined => o?.ttlMs

  const store: SharedStore = {
    async get<T> (key: string) {
      const v = backend.read<string>(k(key))
      return typeof v === 'string' ? parse<T>(v) : undefined
    },
    async set (key, value, options) {
      if (options?.ifAbsent === true && backend.read(k(key)) !== undefined) return false
      backend.write(k(key), JSON.stringify(value), ttl(options) ?? Infinity)
      return true
    },
    async delete (key) { return backend.remove(k(key)) },
    async increment (key, by = 1, options) {
      const next = Number(backend.read<string>(k(key)) ?? 0) + by
      backend.write(k(key), String(next), ttl(options))
      return next
    },
    async expire (key, ttlMs) { return backend.expire(k(key), ttlMs) },

    async hashSet (key, field, value, options) {
      backend.container(k(key), () => new Map<string, string>(), ttl(options)).set(field, JSON.stringify(value))
    },
    async hashGet<T> (key: string, field: string) {
      return parse<T>(backend.read<Map<string, string>>(k(key))?.get(field))
    },
    async hashDelete (key, field) {
      const map = backend.read<Map<string, string>>(k(key))
      if (map === undefined) return false
      const removed = map.delete(field)
      backend.pruneIfEmpty(k(key), map.size)
      return removed
    },
    async hashGetAll<T> (key: string) {
      const out: Record<string, T> = {}
      for (const [f, v] of backend.read<Map<string, string>>(k(key)) ?? []) out[f] = JSON.parse(v) as T
      return out
    },
    async hashIncrement (key, field, by, options) {
      const map = backend.container(k(key), () => new Map<string, string>(), ttl(options))
      const next = Number(map.get(field) ?? 0) + by
      map.set(field, String(next))
      return next
    },

    async listPush (key, value, options) {
      const list = backend.container<string[]>(k(key), () => [], ttl(options))
      list.push(JSON.stringify(value))
      const max = options?.maxLength
      if (max !== undefined && list.length > max) list.splice(0, list.length - max)
      return list.length
    },
    async listRange<T> (key: string, start: number, stop: number) {
      const list = backend.read<string[]>(k(key)) ?? []
      const n = list.length
      const from = Math.max(start < 0 ? n + start : start, 0)
      const to = Math.min(stop < 0 ? n + stop : stop, n - 1)
      return from > to ? [] : list.slice(from, to + 1).map((v) => JSON.parse(v) as T)
    },
    async listLength (key) { return backend.read<string[]>(k(key))?.length ?? 0 },

    async setAdd (key, member, options) {
      const set = backend.container(k(key), () => new Set<string>(), ttl(options))
      if (set.has(member)) return false
      set.add(member)
      return true
    },
    async setRemove (key, member) {
      const set = backend.read<Set<string>>(k(key))
      if (set === undefined) return false
      const removed = set.delete(member)
      backend.pruneIfEmpty(k(key), set.size)
      return removed
    },
    async setMembers (key) { return [...(backend.read<Set<string>>(k(key)) ?? [])] },
    async setHas (key, member) { return backend.read<Set<string>>(k(key))?.has(member) ?? false },

    async sortedAdd (key, member, score, options) {
      backend.container(k(key), () => new Map<string, number>(), ttl(options)).set(member, score)
    },
    async sortedRemove (key, member) {
      const map = backend.read<Map<string, number>>(k(key))
      if (map === undefined) return false
      const removed = map.delete(member)
      backend.pruneIfEmpty(k(key), map.size)
      return removed
    },
    async sortedRange (key, min, max, limit = Infinity) {
      const out: Array<{ member: string, score: number }> = []
      for (const [member, score] of backend.read<Map<string, number>>(k(key)) ?? []) {
        if (score >= min && score <= max) out.push({ member, score })
      }
      out.sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
      return out.slice(0, limit)
    },
    async sortedScore (key, member) { return backend.read<Map<string, number>>(k(key))?.get(member) },

    keyOf: k,

    scope (p) { return memoryStore(backend, `${prefix}${p}:`) }
  }
  return store
}
