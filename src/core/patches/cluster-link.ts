/** The Redis streams adapter's connection to Redis: its clients, whether it is up, and what a publish became. */
import type { Redis, RedisOptions } from 'ioredis'
import type { Namespace } from 'socket.io'

/**
 * Options of the clients the adapter duplicates (one blocking XREAD reader per stream, one subscriber).
 * Unlike the shared client they wait through an outage: a reader's XREAD stays queued (no retry limit,
 * no command timeout: it blocks for `blockTimeInMs` by design) and runs once Redis is back, so the read
 * loop neither spins nor stops; the subscriber subscribes again by itself (ioredis `autoResubscribe`).
 */
const READER_OPTIONS: Partial<RedisOptions> = { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined }

/** Commands whose promise the adapter drops (ephemeral messages, session persistence): their rejection is handled here. */
const FLOATING = new Set<PropertyKey>(['publish', 'spublish', 'set'])

interface ClusterAdapterLike {
  publishAndReturnOffset: (message: unknown) => Promise<string>
  serverSideEmit: (packet: unknown[]) => Promise<unknown>
}

type AdapterFactory = (nsp: Namespace) => unknown

const noop = (): void => {}

/**
 * Sits between the streams adapter (socket.io-adapter's `ClusterAdapter`) and ioredis.
 *
 * - `client` is what the adapter is given. It is the shared client, except that the clients it duplicates
 *   get `READER_OPTIONS` (and whatever `prepare` adds, see stream-offsets.ts), and that the promises the
 *   adapter never looks at (`PUBLISH` of ephemeral messages, `SET` of sessions) cannot end the process
 *   as unhandled rejections while Redis is down.
 * - `track(factory)` wraps the adapter factory so that `last` holds the promise of the last message an
 *   adapter published: a broadcast's XADD is started synchronously inside `emit`, so the caller of `emit`
 *   can read it right after and wait for Redis to accept the event.
 * - `up` is the shared client's state, `connected` whether every duplicated client is connected too.
 */
export class ClusterLink {
  readonly client: Redis
  /** The promise of the last message published by an adapter (a caller sets it to undefined before emitting). */
  last: Promise<unknown> | undefined
  readonly #redis: Redis
  readonly #duplicates: Redis[] = []
  #closed = false

  constructor (redis: Redis, prepare: (client: Redis) => Redis = (c) => c) {
    this.#redis = redis
    const bound = new WeakMap<object, unknown>()
    const duplicates = this.#duplicates
    const duplicate = (override?: Partial<RedisOptions>): Redis => {
      const client = redis.duplicate({ ...override, ...READER_OPTIONS })
      // The adapter awaits `connect()` of its duplicates without a catch; a first attempt that fails is
      // retried by ioredis anyway (and queued commands wait for it).
      const connect = client.connect.bind(client)
      client.connect = async () => { await connect().catch(noop) }
      // Its SUBSCRIBE is not awaited either; it fails only when the client is closed before Redis answered it.
      const subscribe = client.subscribe.bind(client) as (...args: unknown[]) => Promise<unknown>
      ;(client as unknown as { subscribe: typeof subscribe }).subscribe = (...args) => {
        const p = subscribe(...args)
        p.catch(noop)
        return p
      }
      duplicates.push(client)
      // A reader the adapter makes again after the close (its loop meeting an error) is not left reconnecting.
      if (this.#closed) queueMicrotask(() => { client.disconnect() })
      return prepare(client)
    }
    const floating = (fn: (...args: unknown[]) => Promise<unknown>) => (...args: unknown[]): Promise<unknown> => {
      const p = fn.apply(redis, args)
      p.catch(noop)
      return p
    }
    const wrapped = new Map<PropertyKey, unknown>()
    for (const name of FLOATING) wrapped.set(name, floating((redis as unknown as Record<PropertyKey, (...args: unknown[]) => Promise<unknown>>)[name as string]!))
    wrapped.set('duplicate', duplicate)
    this.client = new Proxy(redis, {
      get (target, prop) {
        const own = wrapped.get(prop)
        if (own !== undefined) return own
        const value = Reflect.get(target, prop, target) as unknown
        if (typeof value !== 'function') return value
        // One bound function per method, not one per call (XADD runs for every broadcast).
        let fn = bound.get(value)
        if (fn === undefined) {
          fn = (value as (...args: unknown[]) => unknown).bind(target)
          bound.set(value, fn)
        }
        return fn
      }
    })
  }

  /**
   * Disconnects every client the adapter duplicated, once its adapters are closed: one left behind (a reader
   * whose loop met an error while closing) would otherwise reconnect for ever and keep the process alive.
   */
  close (): void {
    this.#closed = true
    for (const c of this.#duplicates) c.disconnect()
  }

  /** The shared client is connected: publishes can reach the other nodes. */
  get up (): boolean { return this.#redis.status === 'ready' }

  /** The shared client and every client of the adapter (readers, subscriber) are connected. */
  get connected (): boolean {
    if (!this.up) return false
    for (const c of this.#duplicates) if (c.status !== 'ready') return false
    return true
  }

  /** Wraps the adapter factory of `createAdapter` so that `last` follows what its adapters publish. */
  track<F extends AdapterFactory> (factory: F): F {
    const link = this
    // Socket.IO calls it with `new`: a function, not an arrow (the object returned is the adapter).
    return (function trackedAdapter (nsp: Namespace) {
      const adapter = factory(nsp) as ClusterAdapterLike
      const publish = adapter.publishAndReturnOffset
      adapter.publishAndReturnOffset = function (message) {
        const p = publish.call(this, message)
        link.last = p
        return p
      }
      return adapter
    }) as F
  }

  /**
   * `ClusterAdapter.serverSideEmit` returns a promise that Namespace#serverSideEmit drops; it rejects when
   * Redis is down (the count of nodes is asked first). This one is handled: `onError` gets the error.
   */
  serverSideEmit (nsp: Namespace, packet: unknown[], onError: (err: unknown) => void): void {
    (nsp.adapter as unknown as ClusterAdapterLike).serverSideEmit(packet).catch(onError)
  }
}
