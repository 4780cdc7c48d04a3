// A webhook delivery job, the retry schedule, and the queue every store implements (memory or Redis).

/** One delivery of one event to one endpoint; `id` is the `webhook-id` the receiver deduplicates on. */
export interface WebhookJob {
  readonly id: string
  /** The endpoint's name (`webhooks.endpoints[].name`). */
  readonly endpoint: string
  readonly tenantId: string
  readonly type: string
  /** The JSON body, serialized once when the event was queued: every attempt signs and sends the same bytes. */
  readonly body: string
  /** Attempts made so far. */
  readonly attempts: number
  /** When the event was queued (epoch ms). */
  readonly queuedAt: number
}

/** A logical event before it is fanned out to the endpoints that want it; `at` is when it happened (epoch ms). */
export interface QueuedEvent {
  readonly type: string
  readonly tenantId: string
  readonly data: unknown
  readonly at: number
}

/** A job that ran out of attempts (or was refused for good), kept until replayed or trimmed. */
export interface DeadLetter extends WebhookJob {
  /** The dead letter's own id: what a replay names. */
  readonly deadId: string
  /** Why the last attempt failed (`HTTP 500`, `timeout after 5000 ms`, ...). */
  readonly error: string
  readonly failedAt: number
}

/** What one attempt came to: delivered, to be retried, or failed for good. */
export type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry', readonly error: string }
  | { readonly kind: 'failed', readonly error: string }

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
}

/**
 * The wait before attempt `attempts + 1`: exponential (initialDelayMs × 2^(attempts-1), capped at maxDelayMs) with
 * full jitter over its upper half, so that the receivers a failure hit together are not retried together.
 */
export function retryDelay (policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempts - 1))
  return Math.round(base / 2 + random() * base / 2)
}

/** Sends one job: what the queue does with it next depends on the outcome. */
export type Deliver = (job: WebhookJob) => Promise<Outcome>

/**
 * Where jobs wait: each is handed to `deliver` until it is delivered, retried after `retryDelay` on a retryable
 * outcome while attempts remain, and otherwise kept as a dead letter.
 */
export interface WebhookQueue {
  /** Whether a job survives this process (Redis) or not (memory). */
  readonly durable: boolean
  enqueue (jobs: readonly WebhookJob[]): Promise<void>
  start (deliver: Deliver): void
  /** Dead letters, newest first; of one tenant when `tenantId` is given. */
  deadLetters (options: { tenantId?: string, limit: number }): Promise<DeadLetter[]>
  /** Queues dead letters again (attempts reset); of one tenant when `tenantId` is given. Returns how many. */
  replay (deadIds: readonly string[], tenantId?: string): Promise<number>
  /** Stops taking jobs and waits for the attempts under way. */
  close (): Promise<void>
}
