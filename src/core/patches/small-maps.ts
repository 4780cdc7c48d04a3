// Patch of three per-connection Maps of Socket.IO (socket.io 4.8) that hold one entry, or none, for a connection's whole life.
import type { Socket } from 'socket.io'

/** A key of an empty `OneEntryMap`: never a key a caller can pass. */
const NONE: unique symbol = Symbol('none')

/**
 * A `Map` for the common case of one entry. V8 gives every `new Map()` a table for four entries (~150 bytes of
 * heap, plus the Map); this object holds its one entry in two fields, and moves to a real `Map` (for good) at
 * the second. It has the `Map` methods Socket.IO and its adapters call (`get`, `set`, `has`, `delete`, `clear`,
 * `size`, `keys`, `values`, `entries`, `forEach`, iteration), with `Map`'s key equality (SameValueZero) and its
 * insertion order; it is not a `Map` for `instanceof` or `Map.prototype` methods called on it.
 */
export class OneEntryMap<K, V> {
  #key: K | typeof NONE = NONE
  #value: V | undefined = undefined
  #map: Map<K, V> | undefined = undefined

  constructor (entries?: Iterable<readonly [K, V]>) {
    if (entries !== undefined) for (const [key, value] of entries) this.set(key, value)
  }

  get size (): number {
    if (this.#map !== undefined) return this.#map.size
    return this.#key === NONE ? 0 : 1
  }

  get (key: K): V | undefined {
    if (this.#map !== undefined) return this.#map.get(key)
    return this.#holds(key) ? this.#value : undefined
  }

  has (key: K): boolean {
    if (this.#map !== undefined) return this.#map.has(key)
    return this.#holds(key)
  }

  set (key: K, value: V): this {
    if (this.#map !== undefined) {
      this.#map.set(key, value)
    } else if (this.#key === NONE || this.#holds(key)) {
      // -0 is kept as +0, as a Map keeps it.
      this.#key = Object.is(key, -0) ? 0 as K : key
      this.#value = value
    } else {
      this.#map = new Map([[this.#key, this.#value as V], [key, value]])
      this.#key = NONE
      this.#value = undefined
    }
    return this
  }

  delete (key: K): boolean {
    if (this.#map !== undefined) return this.#map.delete(key)
    if (!this.#holds(key)) return false
    this.#key = NONE
    this.#value = undefined
    return true
  }

  clear (): void {
    this.#map?.clear()
    this.#key = NONE
    this.#value = undefined
  }

  forEach (callback: (value: V, key: K, map: this) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this)
  }

  * entries (): IterableIterator<[K, V]> {
    if (this.#map !== undefined) {
      yield * this.#map.entries()
      return
    }
    if (this.#key !== NONE) yield [this.#key, this.#value as V]
  }

  * keys (): IterableIterator<K> {
    for (const [key] of this.entries()) yield key
  }

  * values (): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value
  }

  [Symbol.iterator] (): IterableIterator<[K, V]> {
    return this.entries()
  }

  get [Symbol.toStringTag] (): string {
    return 'OneEntryMap'
  }

  #holds (key: K): boolean {
    const own = this.#key
    // SameValueZero: NaN equals NaN, +0 equals -0.
    return own !== NONE && (own === key || Object.is(own, key))
  }
}

/**
 * Replaces, at each namespace connection, Socket.IO's `Client.sockets` and `Client.nsps` (a connection's namespace
 * sockets by id and by namespace name: one entry each for a connection to one namespace) and the socket's `acks`
 * (its server-to-client acknowledgements waiting for an answer: none while idle) by `OneEntryMap`s with the same
 * entries: about 400 bytes less heap per idle connection (`bench/profile/memory-snapshot.js`). Socket.IO reads
 * all three through their owner's property every time. A connection's second namespace finds its client's maps
 * already replaced; anything of another shape (not a `Map`) is left as it is.
 */
export function shrinkConnectionMaps (socket: Socket): void {
  const client = socket.client as unknown as { sockets?: unknown, nsps?: unknown }
  if (client.sockets instanceof Map) client.sockets = new OneEntryMap(client.sockets)
  if (client.nsps instanceof Map) client.nsps = new OneEntryMap(client.nsps)
  const own = socket as unknown as { acks?: unknown }
  if (own.acks instanceof Map) own.acks = new OneEntryMap(own.acks)
}
