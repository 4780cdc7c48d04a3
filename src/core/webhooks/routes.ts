// The webhooks' REST routes: a tenant's dead letters, and replaying them; triggers of the core, as the control routes.
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { PluginInvalid, WebhooksOff } from '../../lib/errors.js'
import type { Core } from '../core.js'
import { addTrigger } from '../plugins/api.js'

/** The routes' prefix is `/api/<this>`, as a plugin's is `/api/<name>`: no plugin may take the name. */
export const WEBHOOKS = 'webhooks'

const DeadLettersQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most dead letters returned, newest first; 100 when left out.' }))
}, { additionalProperties: false })

const ReplayBody = Type.Object({
  deadIds: Type.Array(Type.String({ minLength: 1, maxLength: 64, description: 'A dead letter\'s `deadId`.' }), { minItems: 1, maxItems: 1000, uniqueItems: true })
}, { additionalProperties: false })

const DeadLetter = Type.Object({
  deadId: Type.String({ description: 'What a replay names.' }),
  id: Type.String({ description: 'The delivery\'s `webhook-id` (a replay keeps it: receivers deduplicate on it).' }),
  endpoint: Type.String(),
  type: Type.String({ description: 'The event type (`batch` for a batch).' }),
  attempts: Type.Integer(),
  error: Type.String({ description: 'Why the last attempt failed.' }),
  queuedAt: Type.String({ format: 'date-time' }),
  failedAt: Type.String({ format: 'date-time' }),
  event: Type.Unknown({ description: 'The body that was sent.' })
})

const DeadLettersAnswer = Type.Object({
  tenantId: Type.String(),
  durable: Type.Boolean({ description: 'Whether the queue is in Redis (false: in this process\'s memory, this node\'s letters only).' }),
  deadLetters: Type.Array(DeadLetter)
})
const ReplayAnswer = Type.Object({ tenantId: Type.String(), replayed: Type.Integer({ description: 'Dead letters queued again.' }) })

/**
 * `GET /api/webhooks/dead-letters?tenantId&limit` and `POST /api/webhooks/dead-letters/replay { tenantId, deadIds }`,
 * for an API key: a tenant-bound key sees and replays its tenant's letters only, an unbound key names the tenant.
 */
export async function webhookRoutes (app: FastifyInstance, core: Core, plugins: ReadonlyArray<{ readonly name: string }>): Promise<void> {
  if (plugins.some((p) => p.name === WEBHOOKS)) {
    throw new PluginInvalid(`"${WEBHOOKS}": the name is reserved for the core's webhook routes (/api/${WEBHOOKS}); rename the plugin`)
  }
  const { webhooks } = core
  const enabled = (): void => {
    if (!webhooks.enabled) throw new WebhooksOff('no endpoint is configured (webhooks.endpoints)')
  }
  await app.register(async function webhooks$ (scope) {
    addTrigger(core, scope, WEBHOOKS, '/dead-letters', {
      method: 'GET',
      querystring: DeadLettersQuery,
      tenant: true,
      response: DeadLettersAnswer,
      errors: ['RT_ERR_WEBHOOKS_OFF'],
      summary: 'A tenant\'s dead letters: deliveries that ran out of attempts or were refused for good, newest first.'
    }, async (request) => {
      enabled()
      const { tenantId } = request
      const letters = await webhooks.deadLetters({ tenantId, limit: request.query.limit ?? 100 })
      return {
        tenantId,
        durable: webhooks.durable,
        deadLetters: letters.map((d) => ({
          deadId: d.deadId,
          id: d.id,
          endpoint: d.endpoint,
          type: d.type,
          attempts: d.attempts,
          error: d.error,
          queuedAt: new Date(d.queuedAt).toISOString(),
          failedAt: new Date(d.failedAt).toISOString(),
          event: JSON.parse(d.body) as unknown
        }))
      }
    })

    addTrigger(core, scope, WEBHOOKS, '/dead-letters/replay', {
      body: ReplayBody,
      tenant: true,
      status: 202,
      response: ReplayAnswer,
      errors: ['RT_ERR_WEBHOOKS_OFF'],
      summary: 'Queues dead letters again: attempts start over, with the same webhook-id. Unknown ids and other tenants\' are skipped.'
    }, async (request) => {
      enabled()
      const { tenantId } = request
      const replayed = await webhooks.replay(request.body.deadIds, tenantId)
      request.log.info({ tenantId, replayed }, 'webhook dead letters replayed')
      return { tenantId, replayed }
    })
  }, { prefix: `/api/${WEBHOOKS}` })
}
