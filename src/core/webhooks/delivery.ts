// One webhook attempt: the body signed with the Standard Webhooks scheme, POSTed, and the answer classified.
import type { Webhook as Signer } from 'standardwebhooks'
import { onDemand } from '../../lib/on-demand.js'
import type { Deliver, Outcome, WebhookJob } from './job.js'

export interface Endpoint {
  readonly name: string
  readonly url: string
  /** `whsec_<base64>`, as Standard Webhooks receivers expect it. */
  readonly secret: string
}

/** Statuses worth another attempt besides 5xx: the receiver asked for time. */
const RETRYABLE_4XX = new Set([408, 425, 429])

/** The answer of an attempt: 2xx delivered; 5xx, 408, 425, 429, a time-out or a network error retried; any other status failed for good. */
export function classify (status: number): Outcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' }
  if (status >= 500 || RETRYABLE_4XX.has(status)) return { kind: 'retry', error: `HTTP ${status}` }
  return { kind: 'failed', error: `HTTP ${status}` }
}

/**
 * Sends jobs to their endpoints: each attempt is signed anew (`webhook-timestamp` is the attempt's time, as the
 * scheme wants: receivers refuse old timestamps), with the job's id as `webhook-id` so a receiver can
 * deduplicate a delivery it saw already.
 */
export function httpDelivery (endpoints: readonly Endpoint[], timeoutMs: number, now: () => number = Date.now): Deliver {
  const { Webhook } = onDemand('standardwebhooks') as { Webhook: typeof Signer }
  const signers = new Map(endpoints.map((e) => [e.name, { url: e.url, signer: new Webhook(e.secret) }]))
  return async function deliver (job: WebhookJob): Promise<Outcome> {
    const target = signers.get(job.endpoint)
    if (target === undefined) return { kind: 'failed', error: `endpoint "${job.endpoint}" is no longer configured` }
    const at = new Date(now())
    const headers = {
      'content-type': 'application/json',
      'webhook-id': job.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': target.signer.sign(job.id, at, job.body)
    }
    let status: number
    try {
      const res = await fetch(target.url, { method: 'POST', headers, body: job.body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' })
      status = res.status
      await res.body?.cancel()
    } catch (err) {
      const e = err as Error
      return { kind: 'retry', error: e.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` }
    }
    return classify(status)
  }
}
