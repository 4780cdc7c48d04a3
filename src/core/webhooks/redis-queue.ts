// The webhook queue on Redis: a stream read by a consumer group of every node, a sorted set of retries, a dead-letter stream.
import type { Redis } from 'ioredis'
import { jobOf } from './memory-queue.js'
import { retryDelay, type DeadLetter, type Deliver, type Outcome, type QueuedEvent, type RetryPolicy, type WebhookJob, type WebhookQueue } from './job.js'

export interface RedisQueueOptions {
  redis: Redis
  keyPrefix: string
  /** This node: its name in the consumer group. */
  nodeId: string
  retry: RetryPolicy
  /** Jobs one node attempts at once. */
  concurrency: number
  deadLetterMax: number
  /** A job read by a node that did not finish it within this long (it died) is taken over by another. */
  visibilityMs: number
  /** How often due retries are moved back into the stream, and abandoned jobs claimed. */
  pollMs: number
  /** The jobs of an event entry (one per endpoint that wants it). */
  fanout: (event: QueuedEvent) => WebhookJob[]
  onError: (err: unknown, what: string) => void
}

const GROUP = 'delivery'
/** How long one read waits for a job; below the client's command time-out. */
const BLOCK_MS = 2000

/** Moves retries that are due back into the stream, atomically (any node may run it). KEYS: retries, jobs; ARGV: now, max. */
const MOVE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, job in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'job', job)
  redis.call('ZREM', KEYS[1], job)
end
return #due`

type Entry = [id: string, fields: string[]]

const ENTRY_ID = /^\d{1,20}-\d{1,20}$/

/** The stream of jobs and events: what a Lua script names to queue an event atomically with the change that made it. */
export const jobsStream = (keyPrefix: string): string => `${keyPrefix}:webhooks:jobs`

/**
 * At-least-once on Redis. A job is an entry of `<prefix>:webhooks:jobs`, read by one node of the group; it leaves
 * the stream only in the same transaction that records what came of it (delivered: nothing more; retry: a member of
 * `<prefix>:webhooks:retry` scored with its due time; failed: an entry of `<prefix>:webhooks:dead`). A node that dies
 * mid-attempt leaves its entries pending: after `visibilityMs` another node claims them (XAUTOCLAIM) and sends
 * them again, with the same `webhook-id`.
 *
 * The stream also holds events (`event` entries: `{ type, tenantId, data, at }`), written by `enqueueEvent` or by
 * a Lua script in the same transaction as the state change that made them. The node that reads one replaces it
 * by its jobs, one per endpoint that wants it, in one transaction: an event is fanned out exactly once.
 */
export class RedisQueue implements WebhookQueue {
  readonly durable = true
  readonly #o: RedisQueueOptions
  readonly #jobs: string
  readonly #retries: string
  readonly #dead: string
  readonly #running = new Set<Promise<void>>()
  #reader: Redis | undefined
  #poller: NodeJS.Timeout | undefined
  #loop: Promise<void> | undefined
  #closed = false

  constructor (options: RedisQueueOptions) {
    this.#o = options
    this.#jobs = jobsStream(options.keyPrefix)
    this.#retries = `${options.keyPrefix}:webhooks:retry`
    this.#dead = `${options.keyPrefix}:webhooks:dead`
    options.redis.defineCommand('rtWebhooksMoveDue', { numberOfKeys: 2, lua: MOVE_DUE })
  }

  async enqueue (jobs: readonly WebhookJob[]): Promise<void> {
    if (jobs.length === 0) return
    const multi = this.#o.redis.multi()
    for (const job of jobs) multi.xadd(this.#jobs, '*', 'job', JSON.stringify(job))
    failedIn(await multi.exec())
  }

  /** Queues an event; the node that reads it writes its jobs. */
  async enqueueEvent (event: QueuedEvent): Promise<void> {
    await this.#o.redis.xadd(this.#jobs, '*', 'event', JSON.stringify(event))
  }

  start (deliver: Deliver): void {
    this.#reader = this.#o.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, lazyConnect: false })
    this.#reader.on('error', () => {})
    this.#loop = this.#read(deliver)
    const poll = (): void => { void this.#poll(deliver) }
    this.#poller = setInterval(poll, this.#o.pollMs)
    this.#poller.unref()
  }

  async deadLetters ({ tenantId, limit }: { tenantId?: string, limit: number }): Promise<DeadLetter[]> {
    const out: DeadLetter[] = []
    let end = '+'
    // Newest first, a page at a time, until `limit` letters of the tenant or the start of the stream.
    while (out.length < limit) {
      const page = await this.#o.redis.xrevrange(this.#dead, end, '-', 'COUNT', 200) as Entry[]
      for (const [id, fields] of page) {
        if (id === end) continue
        const letter = { ...parseField<Omit<DeadLetter, 'deadId'>>(fields, 'letter'), deadId: id }
        if (tenantId === undefined || letter.tenantId === tenantId) out.push(letter)
        if (out.length >= limit) break
      }
      if (page.length < 200) break
      end = page[page.length - 1]![0]
    }
    return out
  }

  async replay (deadIds: readonly string[], tenantId?: string): Promise<number> {
    let n = 0
    for (const deadId of deadIds) {
      // Ids are input: only a stream entry id reaches Redis.
      if (!ENTRY_ID.test(deadId)) continue
      const found = await this.#o.redis.xrange(this.#dead, deadId, deadId) as Entry[]
      if (found.length === 0) continue
      const letter = { ...parseField<Omit<DeadLetter, 'deadId'>>(found[0]![1], 'letter'), deadId }
      if (tenantId !== undefined && letter.tenantId !== tenantId) continue
      const removed = await this.#o.redis.multi().xdel(this.#dead, deadId).xadd(this.#jobs, '*', 'job', JSON.stringify(jobOf(letter))).exec()
      failedIn(removed)
      if (removed![0]![1] === 1) n++
    }
    return n
  }

  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#poller)
    this.#reader?.disconnect()
    await this.#loop
    await Promise.all(this.#running)
  }

  async #read (deliver: Deliver): Promise<void> {
    await this.#ensureGroup()
    while (!this.#closed) {
      let entries: Entry[] = []
      try {
        const free = Math.max(1, this.#o.concurrency - this.#running.size)
        const res = await this.#reader!.xreadgroup('GROUP', GROUP, this.#o.nodeId, 'COUNT', free, 'BLOCK', BLOCK_MS, 'STREAMS', this.#jobs, '>') as Array<[string, Entry[]]> | null
        entries = res?.[0]?.[1] ?? []
      } catch (err) {
        if (this.#closed) return
        // Redis restarted empty: the group is gone with the stream.
        if ((err as Error).message.includes('NOGROUP')) await this.#ensureGroup()
        else {
          this.#o.onError(err, 'reading webhook jobs')
          await new Promise((resolve) => setTimeout(resolve, this.#o.pollMs).unref())
        }
        continue
      }
      for (const entry of entries) this.#run(deliver, entry)
      // Wait for a free slot before reading more.
      while (!this.#closed && this.#running.size >= this.#o.concurrency) await Promise.race(this.#running)
    }
  }

  async #ensureGroup (): Promise<void> {
    try {
      await this.#reader!.xgroup('CREATE', this.#jobs, GROUP, '0', 'MKSTREAM')
    } catch (err) {
      if (!(err as Error).message.includes('BUSYGROUP') && !this.#closed) this.#o.onError(err, 'creating the webhook consumer group')
    }
  }

  /** Moves due retries into the stream and claims jobs another node abandoned. */
  async #poll (deliver: Deliver): Promise<void> {
    if (this.#closed) return
    const redis = this.#o.redis
    try {
      await (redis as unknown as { rtWebhooksMoveDue: (...a: Array<string | number>) => Promise<number> }).rtWebhooksMoveDue(this.#retries, this.#jobs, Date.now(), 100)
      const free = this.#o.concurrency - this.#running.size
      if (free <= 0) return
      const [, claimed] = await redis.xautoclaim(this.#jobs, GROUP, this.#o.nodeId, this.#o.visibilityMs, '0-0', 'COUNT', free) as [string, Entry[]]
      for (const entry of claimed) this.#run(deliver, entry)
    } catch (err) {
      if (!this.#closed && !(err as Error).message.includes('NOGROUP')) this.#o.onError(err, 'moving webhook retries')
    }
  }

  #run (deliver: Deliver, [entryId, fields]: Entry): void {
    const run = this.#attempt(deliver, entryId, fields).finally(() => { this.#running.delete(run) })
    this.#running.add(run)
  }

  async #attempt (deliver: Deliver, entryId: string, fields: string[]): Promise<void> {
    if (fields[0] === 'event') {
      await this.#fanout(entryId, fields)
      return
    }
    let job: WebhookJob
    try {
      job = parseField<WebhookJob>(fields, 'job')
    } catch (err) {
      this.#o.onError(err, 'reading a webhook job')
      await this.#o.redis.multi().xack(this.#jobs, GROUP, entryId).xdel(this.#jobs, entryId).exec().catch(() => {})
      return
    }
    const tried = { ...job, attempts: job.attempts + 1 }
    let outcome: Outcome
    try {
      outcome = await deliver(tried)
    } catch (err) {
      outcome = { kind: 'retry', error: (err as Error).message }
    }
    const multi = this.#o.redis.multi()
    if (outcome.kind === 'retry' && tried.attempts < this.#o.retry.attempts) {
      multi.zadd(this.#retries, Date.now() + retryDelay(this.#o.retry, tried.attempts), JSON.stringify(tried))
    } else if (outcome.kind !== 'delivered') {
      const letter: Omit<DeadLetter, 'deadId'> = { ...tried, error: outcome.error, failedAt: Date.now() }
      multi.xadd(this.#dead, 'MAXLEN', '~', this.#o.deadLetterMax, '*', 'letter', JSON.stringify(letter))
    }
    multi.xack(this.#jobs, GROUP, entryId).xdel(this.#jobs, entryId)
    try {
      failedIn(await multi.exec())
    } catch (err) {
      // The entry stays pending: claimed again after visibilityMs, and sent again (at least once).
      this.#o.onError(err, 'recording a webhook attempt')
    }
  }

  /** Replaces an event entry by its jobs, in one transaction. */
  async #fanout (entryId: string, fields: string[]): Promise<void> {
    let jobs: WebhookJob[]
    try {
      jobs = this.#o.fanout(parseField<QueuedEvent>(fields, 'event'))
    } catch (err) {
      this.#o.onError(err, 'reading a webhook event')
      jobs = []
    }
    const multi = this.#o.redis.multi()
    for (const job of jobs) multi.xadd(this.#jobs, '*', 'job', JSON.stringify(job))
    multi.xack(this.#jobs, GROUP, entryId).xdel(this.#jobs, entryId)
    try {
      failedIn(await multi.exec())
    } catch (err) {
      // The event stays pending: claimed again after visibilityMs.
      this.#o.onError(err, 'fanning out a webhook event')
    }
  }
}

function parseField<T> (fields: string[], name: string): T {
  const i = fields.indexOf(name)
  if (i < 0 || i % 2 !== 0) throw new Error(`webhook entry without "${name}"`)
  return JSON.parse(fields[i + 1]!) as T
}

/** Throws the first error of a transaction's replies (ioredis gives them as values). */
function failedIn (replies: Array<[Error | null, unknown]> | null): void {
  if (replies === null) throw new Error('transaction aborted')
  for (const [err] of replies) if (err !== null) throw err
}
