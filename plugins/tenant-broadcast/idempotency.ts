/**
 * Idempotent triggers: the first request with a key publishes, later ones within the window get the
 * same result without publishing again. The key is claimed with the store's atomic `set(..., { ifAbsent })`,
 * so this holds across nodes when the store is Redis. A request that finds the key claimed by one still
 * running waits for its result (up to `waitMs`, then 409); one with the same key but another event is 422.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PublishResult, SharedStore } from 'realtime-server'
import { IdempotencyInProgress, IdempotencyMismatch } from './errors.js'
import type { EventInput } from './publisher.js'
import type { TenantBroadcastOptions } from './schema.js'

interface Entry {
  state: 'pending' | 'done'
  /** Fingerprint of the event the key was first used for. */
  fp: string
  result?: PublishResult
}

/** A claimed key: `run` publishes once and remembers the result; `release` frees the key without publishing. */
export interface FreshClaim {
  readonly replay?: undefined
  run (publish: () => Promise<PublishResult>): Promise<PublishResult>
  release (): Promise<void>
}

/** A key already used for this event: its first result. */
export interface ReplayClaim {
  readonly replay: PublishResult
}

export type Claim = FreshClaim | ReplayClaim

/** JSON with object keys sorted, so that two serializations of one event compare equal. */
function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** What makes two requests "the same event": type, payload, target and language. */
export const fingerprint = (e: EventInput): string =>
  createHash('sha256').update(canonical([e.type, e.payload, e.to ?? null, e.language ?? null])).digest('base64url')

export class IdempotencyKeys {
  readonly #store: SharedStore
  readonly #o: TenantBroadcastOptions['idempotency']

  constructor (store: SharedStore, options: TenantBroadcastOptions['idempotency']) {
    this.#store = store
    this.#o = options
  }

  async claim (tenantId: string, key: string, fp: string): Promise<Claim> {
    const k = `idem:${encodeURIComponent(tenantId)}:${key}`
    const deadline = Date.now() + this.#o.waitMs
    let delay = 10
    for (;;) {
      if (await this.#store.set(k, { state: 'pending', fp } satisfies Entry, { ttlMs: this.#o.lockMs, ifAbsent: true })) return this.#fresh(k, fp)
      const held = await this.#store.get<Entry>(k)
      if (held === undefined) continue // expired between the two calls: claim again
      if (held.fp !== fp) throw new IdempotencyMismatch(JSON.stringify(key))
      if (held.state === 'done' && held.result !== undefined) return { replay: held.result }
      if (Date.now() >= deadline) throw new IdempotencyInProgress(JSON.stringify(key))
      await sleep(delay)
      delay = Math.min(delay * 2, 200)
    }
  }

  #fresh (k: string, fp: string): FreshClaim {
    const store = this.#store
    const windowMs = this.#o.windowMs
    return {
      async run (publish) {
        let result: PublishResult
        try {
          result = await publish()
        } catch (err) {
          // The publish's error is the answer (RT_ERR_NOT_READY while Redis is down, when this delete fails
          // too: the claim then expires after lockMs).
          await store.delete(k).catch(() => {})
          throw err
        }
        await store.set(k, { state: 'done', fp, result } satisfies Entry, { ttlMs: windowMs })
        return result
      },
      async release () { await store.delete(k) }
    }
  }
}
