/**
 * Publishing one commerce event to both transports: validate the payload, build the seed's envelope once,
 * publish it on Socket.IO through the core (role and owner filtering by tenant-scoped rooms), and hand the
 * same envelope to the plain-WebSocket clients of every node.
 */
import { randomUUID } from 'node:crypto'
import { Type, validationError, type PluginNamespace, type RealtimeApi, type Static, type Validator } from 'realtime-server'
import { Audience, audienceOf, socketTarget, type BroadcastOptions } from './audience.js'
import { UnknownNamespace } from './errors.js'
import { eventTypes, isEventType, payloads, type EventPayload, type EventType } from './events.js'
import { configuredRoles } from './matrix.js'
import type { CommerceOptions } from './schema.js'

/** What the plain-WebSocket side receives on every node for one event. */
export const Delivery = Type.Object({
  tenantId: Type.String({ minLength: 1 }),
  namespace: Type.String({ description: 'Namespace name without the slash.' }),
  audience: Audience,
  text: Type.String({ description: 'The envelope as JSON, serialised once on the publishing node.' })
}, { additionalProperties: false })
export type Delivery = Static<typeof Delivery>

export interface PublishOptions extends BroadcastOptions {
  /** Count the Socket.IO sockets reached, across nodes (one cluster round trip). */
  count?: boolean
}

export interface PublishOutcome {
  eventId: string
  type: EventType
  namespace: string
  /** The envelope's timestamp. */
  timestamp: number
  /** Socket.IO sockets reached, when `count` was asked (plain-WebSocket clients are not counted). */
  recipients?: number
  partial?: boolean
}

/**
 * The service this plugin provides (`realtime.use('commerce-namespaces')` in a plugin that depends on it):
 * the seed's server-side `wsEvents`, as one typed call.
 *
 * @example
 * await commerce.publish(tenantId, 'order:created', { orderId: 'ORD-001', customerId: 'CUST-123', customerName: 'John Doe', total: 1500, status: 'pending', channel: 'online' })
 * await commerce.publish(tenantId, 'product:updated', data, { excludeUserIds: ['user_456'] })
 */
export interface CommerceEvents {
  readonly namespaces: readonly string[]
  /** Validates `data` (400 naming `data.<field>`) and publishes it. */
  publish<T extends EventType>(tenantId: string, type: T, data: EventPayload<T>, options?: PublishOptions): Promise<PublishOutcome>
}

/** `publish` for callers whose `type` and `data` are not typed yet (the REST body): both are checked. */
export type UncheckedPublish = (tenantId: string, type: string, data: unknown, options?: PublishOptions) => Promise<PublishOutcome>

/** A payload validator by event type. */
export type PayloadValidators = ReadonlyMap<string, Validator<Record<string, unknown>>>

/** `RT_ERR_VALIDATION` naming `field`. */
const invalid = (field: string, message: string): Error => validationError({ field, message })

/** One compiled validator per event type. */
export function payloadValidators (realtime: RealtimeApi): PayloadValidators {
  return new Map<string, Validator<Record<string, unknown>>>(eventTypes.map((t) => [t, realtime.compile(payloads[t])]))
}

export function createPublisher (
  opts: CommerceOptions,
  namespaces: ReadonlyMap<string, PluginNamespace>,
  validators: PayloadValidators,
  toWebSockets: ((d: Delivery) => void) | undefined
): CommerceEvents & { publish: UncheckedPublish } {
  // A role no matrix row names reaches nobody: naming one in `roles` is a typo, refused like `data.targetRoles`.
  const knownRoles = configuredRoles(opts)
  const rolesMessage = `must be one of: ${[...knownRoles].join(', ')}`

  const publish: UncheckedPublish = async (tenantId, type, data, options = {}) => {
    const validator = validators.get(type)
    if (validator === undefined || !isEventType(type)) throw invalid('type', `must be one of: ${eventTypes.join(', ')}`)
    if (!validator.check(data)) {
      const p = validator.problems(data)[0] ?? { field: '', message: 'is invalid' }
      throw invalid(p.field === '' ? 'data' : `data.${p.field}`, p.message)
    }
    if (options.roles !== undefined) {
      const bad = options.roles.findIndex((r) => !knownRoles.has(r))
      if (bad >= 0) throw invalid(`roles.${bad}`, rolesMessage)
    }
    const rule = opts.matrix[type]
    const namespace = options.namespace ?? rule.namespace
    const ns = namespaces.get(namespace)
    if (ns === undefined) {
      const err = new UnknownNamespace(`${namespace} (configured: ${[...namespaces.keys()].join(', ')})`)
      err.field = 'namespace'
      throw err
    }
    const envelope = { type, namespace, data, timestamp: Date.now() }
    const audience = audienceOf(rule, data, options, opts.ownerField)
    const target = socketTarget(audience)
    const outcome: PublishOutcome = { eventId: randomUUID(), type, namespace, timestamp: envelope.timestamp }
    if (target === undefined) {
      // Nobody may receive it: publishing nothing is the only safe target.
      if (options.count === true) outcome.recipients = 0
      return outcome
    }
    toWebSockets?.({ tenantId, namespace, audience, text: JSON.stringify(envelope) })
    const result = await ns.publish({
      tenantId,
      ...target,
      event: type,
      payload: data,
      eventId: outcome.eventId,
      meta: () => envelope,
      count: options.count === true
    })
    if (result.recipients !== undefined) outcome.recipients = result.recipients
    if (result.partial === true) outcome.partial = true
    return outcome
  }

  return { namespaces: [...namespaces.keys()], publish }
}
