// The `webhooks` config section: the endpoints, their events and tenants, batching, time-outs and the retry schedule.
import { Type, type Static } from 'typebox'

export const WebhookEndpoint = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64, description: 'The endpoint\'s name, in logs and dead letters.' }),
  url: Type.String({ pattern: '^https?://', description: 'Where deliveries are POSTed.' }),
  secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/=]{24,}$', description: 'The Standard Webhooks signing secret, `whsec_` and at least 18 random bytes in base64 (`whsec_$(openssl rand -base64 32)`).' }),
  events: Type.Array(Type.String({ minLength: 1 }), { default: ['*'], minItems: 1, description: 'Event types this endpoint gets (`user.online`, ...); `*`: all.' }),
  tenants: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Only the events of these tenants; absent: every tenant\'s.' })),
  batch: Type.Optional(Type.Object({
    maxSize: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Events of one tenant sent in one POST at most.' }),
    maxDelayMs: Type.Integer({ minimum: 10, maximum: 10000, default: 1000, description: 'The longest an event waits for its batch to fill.' })
  }, { additionalProperties: false, description: 'Sends this endpoint\'s events in batches (`{ type: "batch", timestamp, tenantId, events }`), for high-volume tenants; absent: one POST per event.' }))
}, { additionalProperties: false })

export const WebhooksOptions = Type.Object({
  endpoints: Type.Array(WebhookEndpoint, { default: [], description: 'Where events are delivered; none: webhooks are off.' }),
  timeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'An attempt not answered within this long is retried.' }),
  retry: Type.Object({
    attempts: Type.Integer({ minimum: 1, default: 15, description: 'Attempts in all before a delivery becomes a dead letter (15 with the default delays: retried for 30 to 60 minutes).' }),
    initialDelayMs: Type.Integer({ minimum: 10, default: 1000, description: 'Wait before the second attempt; it doubles at each attempt (with jitter), up to maxDelayMs.' }),
    maxDelayMs: Type.Integer({ minimum: 10, default: 600000, description: 'The longest wait between two attempts.' })
  }, { additionalProperties: false, default: {} }),
  concurrency: Type.Integer({ minimum: 1, default: 8, description: 'Attempts under way at once, per node (an endpoint with `batch` may hold `batch.maxSize` times as many events).' }),
  deadLetterMax: Type.Integer({ minimum: 1, default: 10000, description: 'Dead letters kept (the oldest trimmed first).' })
}, { additionalProperties: false, default: {}, description: 'Webhooks to backends: presence events (`user.online`, `user.offline`, `member.added`, `member.removed`, `room.occupied`, `room.vacated`) and the client events plugins forward, signed with the Standard Webhooks scheme, queued in Redis when configured (docs/webhooks.md).' })

export type WebhooksOptions = Static<typeof WebhooksOptions>
