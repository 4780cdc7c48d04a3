/**
 * REST routes (prefix /api/tenant-broadcast, API key or publisher JWT):
 * - POST /events        one event  -> { eventId, recipients }
 * - POST /events/batch  up to batch.maxEvents events, all validated before any is published -> { results }
 * - GET  /events        the event types this deployment accepts, with their payload schemas (user token)
 * - GET  /stats         connected sockets, rooms and sockets per tenant (the WhatsApp CRM rooms protocol's
 *                       getConnectionStats); across the cluster, `?local=true` this node only. The numbers span
 *                       every tenant, so only an API key that is not bound to a tenant may read them.
 * POST /events resolves its tenant with `tenant: true`. The batch cannot: each item may name its own tenant
 * (`events.<i>.tenantId`, else the batch's `tenantId`), so it applies the same rule per item with `tenantOf`.
 */
import { Id, isCatalogError, TenantId, Type, validationError, type PluginApp, type PluginNamespace, type PublishResult, type RealtimeApi, type Static, type TSchema } from 'realtime-server'
import { StatsForbidden } from './errors.js'
import type { EventTypes } from './event-types.js'
import { fingerprint, type Claim, type IdempotencyKeys } from './idempotency.js'
import type { PublishEvent } from './publisher.js'
import type { TenantBroadcastOptions } from './schema.js'
import { assertRoomKinds, targetSchema } from './target.js'

export interface RouteDeps {
  ns: PluginNamespace
  options: TenantBroadcastOptions
  types: EventTypes
  publish: PublishEvent
  idempotency: IdempotencyKeys
}

const IdempotencyKey = Id('Same key within the window: same result, published once.')

/** The fields of an event: the body of `POST /events`, and of each item of a batch. */
function eventProperties (options: TenantBroadcastOptions) {
  return {
    type: Type.String({ minLength: 1, maxLength: 200, description: 'Event type, e.g. campaign_status_changed or message:received.' }),
    payload: Type.Unknown({ description: 'Validated against the schema of `type`; sent to clients as it is.' }),
    to: Type.Optional(targetSchema(options.rooms.map((r) => r.kind))),
    language: Type.Optional(Type.Enum([...options.languages])),
    idempotencyKey: Type.Optional(IdempotencyKey)
  }
}

/** A batch item: an event, with the tenant it goes to (else the batch's). */
function batchItemSchema (options: TenantBroadcastOptions) {
  const { type, payload, ...rest } = eventProperties(options)
  return Type.Object({ type, payload, tenantId: Type.Optional(TenantId), ...rest }, { additionalProperties: false })
}

type BatchItem = Static<ReturnType<typeof batchItemSchema>>
type BatchResult = PublishResult & { replayed?: true }

const StatsQuery = Type.Object({ local: Type.Optional(Type.Enum(['true', 'false'])) }, { additionalProperties: false })

const REPLAYED = 'idempotent-replayed'

export function registerRoutes (app: PluginApp, { ns, options, types, publish, idempotency }: RouteDeps): void {
  const { realtime } = app
  const kinds = options.rooms.map((r) => r.kind)
  const BatchBody = Type.Object({
    tenantId: Type.Optional(TenantId),
    events: Type.Array(batchItemSchema(options), { minItems: 1, maxItems: options.batch.maxEvents })
  }, { additionalProperties: false })

  realtime.trigger('/events', { body: Type.Object(eventProperties(options), { additionalProperties: false }), tenant: true }, async (request, reply) => {
    const { body, tenantId } = request
    assertRoomKinds(kinds, body.to)
    types.validate(body.type, body.payload, tenantId)
    if (body.idempotencyKey === undefined) return await publish(tenantId, body)
    const claim = await idempotency.claim(tenantId, body.idempotencyKey, fingerprint(body))
    if (claim.replay !== undefined) {
      void reply.header(REPLAYED, 'true')
      return claim.replay
    }
    return await claim.run(async () => await publish(tenantId, body))
  })

  realtime.trigger('/events/batch', { body: BatchBody }, async (request) => {
    const batch = request.body
    const items = batch.events
    const tenants: string[] = []
    const keys = new Set<string>()
    // Everything is checked before anything is published.
    for (let i = 0; i < items.length; i++) {
      const e = items[i]!
      assertRoomKinds(kinds, e.to, `events.${i}.`)
      const tenantId = tenantFor(realtime, request, e.tenantId ?? batch.tenantId, i)
      types.validate(e.type, e.payload, tenantId, `events.${i}.`)
      if (e.idempotencyKey !== undefined) {
        const k = JSON.stringify([tenantId, e.idempotencyKey])
        if (keys.has(k)) throw validationError({ field: `events.${i}.idempotencyKey`, message: 'is used twice in the batch' })
        keys.add(k)
      }
      tenants.push(tenantId)
    }
    const claims = await claimAll(idempotency, items, tenants)
    // Publishing starts in order (each emit leaves synchronously); the counts are awaited together.
    const pending: Array<Promise<BatchResult>> = items.map((e, i) => {
      const claim = claims[i]
      if (claim === undefined) return publish(tenants[i]!, e)
      if (claim.replay !== undefined) return Promise.resolve({ ...claim.replay, replayed: true })
      return claim.run(async () => await publish(tenants[i]!, e))
    })
    const results: BatchResult[] = []
    for (const settled of await Promise.allSettled(pending)) {
      if (settled.status === 'rejected') throw settled.reason
      results.push(settled.value)
    }
    return { results }
  })

  realtime.trigger('/events', { method: 'GET', auth: 'user' }, async () => {
    const events: Record<string, { catalog: string, schema: TSchema }> = {}
    for (const t of types.list()) events[t.type] = { catalog: t.catalog, schema: t.schema }
    return { catalogs: options.catalogs, events }
  })

  realtime.trigger('/stats', { method: 'GET', querystring: StatsQuery }, async (request) => {
    const principal = request.principal
    if (principal === null || principal.kind !== 'apiKey' || principal.tenantId !== undefined) throw new StatsForbidden()
    const local = request.query.local === 'true'
    const s = await ns.stats({ local })
    return { namespace: ns.name, connected: s.sockets, rooms: s.rooms, tenants: s.tenants, node: local ? realtime.nodeId : undefined, partial: s.partial }
  })
}

/** The tenant of batch item `i`, a missing one reported as `events.<i>.tenantId`. */
function tenantFor (realtime: RealtimeApi, request: Parameters<RealtimeApi['tenantOf']>[0], requested: string | undefined, i: number): string {
  try {
    return realtime.tenantOf(request, requested)
  } catch (err) {
    if (isCatalogError(err) && err.field === 'tenantId') throw validationError({ field: `events.${i}.tenantId`, message: 'is required (in the item or the batch) with an API key that is not bound to a tenant' })
    throw err
  }
}

/** Claims the items' idempotency keys; when one fails, the keys already claimed are released. */
async function claimAll (idempotency: IdempotencyKeys, items: BatchItem[], tenants: string[]): Promise<Array<Claim | undefined>> {
  const settled = await Promise.allSettled(items.map(async (e, i) =>
    e.idempotencyKey === undefined ? undefined : await idempotency.claim(tenants[i]!, e.idempotencyKey, fingerprint(e))))
  const failed = settled.find((s) => s.status === 'rejected')
  const claims = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined))
  if (failed === undefined) return claims
  await Promise.all(claims.map(async (c) => { if (c !== undefined && c.replay === undefined) await c.release() }))
  throw failed.reason
}
