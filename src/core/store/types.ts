/** Options of writes that may expire. */
export interface TtlOptions {
  /** Expire the whole key this many ms after the write (like Redis PEXPIRE). */
  ttlMs?: number
}

/**
 * State shared by every node: in memory on one node, in Redis when Redis is configured. The two
 * implementations behave the same (one conformance test runs against both). Values are JSON; keys are
 * prefixed with the plugin's name, so plugins cannot collide. Data of several tenants must carry the
 * tenant in the key.
 *
 * @example
 * await store.set(`lock:${tenantId}:${tempId}`, { at: Date.now() }, { ttlMs: 30_000, ifAbsent: true })
 */
export interface SharedStore {
  get<T = unknown> (key: string): Promise<T | undefined>
  /** Returns false when `ifAbsent` is set and the key exists (an atomic lock). */
  set (key: string, value: unknown, options?: TtlOptions & { ifAbsent?: boolean }): Promise<boolean>
  delete (key: string): Promise<boolean>
  /** Adds to an integer counter (0 when missing) and returns the new value. */
  increment (key: string, by?: number, options?: TtlOptions): Promise<number>
  /** Sets the expiry of an existing key; false when it does not exist. */
  expire (key: string, ttlMs: number): Promise<boolean>

  hashSet (key: string, field: string, value: unknown, options?: TtlOptions): Promise<void>
  hashGet<T = unknown> (key: string, field: string): Promise<T | undefined>
  hashDelete (key: string, field: string): Promise<boolean>
  hashGetAll<T = unknown> (key: string): Promise<Record<string, T>>
  hashIncrement (key: string, field: string, by: number, options?: TtlOptions): Promise<number>

  /** Appends to a list, keeping only the last `maxLength` items; returns the new length. */
  listPush (key: string, value: unknown, options?: TtlOptions & { maxLength?: number }): Promise<number>
  /** Items `start..stop` inclusive; negative indexes count from the end (Redis LRANGE). */
  listRange<T = unknown> (key: string, start: number, stop: number): Promise<T[]>
  listLength (key: string): Promise<number>

  setAdd (key: string, member: string, options?: TtlOptions): Promise<boolean>
  setRemove (key: string, member: string): Promise<boolean>
  setMembers (key: string): Promise<string[]>
  setHas (key: string, member: string): Promise<boolean>

  /** Sorted set: adds or updates a member's score. */
  sortedAdd (key: string, member: string, score: number, options?: TtlOptions): Promise<void>
  sortedRemove (key: string, member: string): Promise<boolean>
  /** Members with min <= score <= max, lowest score first, at most `limit`. */
  sortedRange (key: string, min: number, max: number, limit?: number): Promise<Array<{ member: string, score: number }>>
  sortedScore (key: string, member: string): Promise<number | undefined>

  /** The full name under which `key` is stored (the Redis key), for Lua scripts of a plugin's own. */
  keyOf (key: string): string

  /** A view of this store whose keys all start with `prefix:`. */
  scope (prefix: string): SharedStore
}
