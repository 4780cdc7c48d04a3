/**
 * Publishing one commerce event to both transports: validate the payload, build the seed's envelope once,
 * publish it on Socket.IO through the core (role and owner filtering by tenant-scoped rooms), and hand the
 * same envelope to the plain-WebSocket clients of every node.
 */
import { randomUUID } from 'node:crypto'
import { validationError, type PluginNamespace, type RealtimeApi, type Validator } from 'realtime-server'
import { audienceOf, socketTarget, type Audience, type BroadcastOptions } from './audience.js'
import { UnknownNamespace } from './errors.js'
import { eventTypes, payloads, type EventEnvelope, type EventPayload, type EventType } from './events.js'
import { EVERYONE, type CommerceOptions } from './schema.js'

/** What the plain-WebSocket side receives on every node for one event. */
export interface Delivery {
  tenantId: string
  /** Namespace name without the slash. */
  namespace: string
  audience: Audience
  /** The envelope as JSON, serialised once on the publishing node. */
  text: string
}

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

type Publish = (tenantId: string, type: string, data: unknown, options?: PublishOptions) => Promise<PublishOutcome>

/** `RT_ERR_VALIDATION` naming `field`. */
const invalid = (field: string, message: string): Error => validationError({ field, message })

/** The role names `roles` may use: every role of the matrix (`roles` and `ownerRoles` of any row), and `*`. */
export function configuredRoles (opts: CommerceOptions): ReadonlySet<string> {
  const names = new Set<string>()
  for (const rule of Object.values(opts.matrix)) for (const r of [...rule.roles, ...rule.ownerRoles]) if (r !== EVERYONE) names.add(r)
  names.add(EVERYONE)
  return names
}

/** One compiled validator per event type. */
export function payloadValidators (realtime: RealtimeApi): ReadonlyMap<string, Validator<unknown>> {
  return new Map<string, Validator<unknown>>(eventTypes.map((t) => [t, realtime.compile(payloads[t])]))
}

export function createPublisher (
  opts: CommerceOptions,
  namespaces: ReadonlyMap<string, PluginNamespace>,
  validators: ReadonlyMap<string, Validator<unknown>>,
  toWebSockets: ((d: Delivery) => void) | undefined
): CommerceEvents & { publish: Publish } {
  // A role no matrix row names reaches nobody: naming one in `roles` is a typo, refused like `data.targetRoles`.
  const knownRoles = configuredRoles(opts)
  const rolesMessage = `must be one of: ${[...knownRoles].join(', ')}`

  const publish: Publish = async (tenantId, type, data, options = {}) => {
    const validator = validators.get(type)
    if (validator === undefined) throw invalid('type', `must be one of: ${eventTypes.join(', ')}`)
    if (!validator.check(data)) {
      const p = validator.problems(data)[0]!
      throw invalid(p.field === '' ? 'data' : `data.${p.field}`, p.message)
    }
    if (options.roles !== undefined) {
      const bad = options.roles.findIndex((r) => !knownRoles.has(r))
      if (bad >= 0) throw invalid(`roles.${bad}`, rolesMessage)
    }
    const rule = opts.matrix[type as EventType]
    const namespace = options.namespace ?? rule.namespace
    const ns = namespaces.get(namespace)
    if (ns === undefined) {
      const err = new UnknownNamespace(`${namespace} (configured: ${[...namespaces.keys()].join(', ')})`)
      err.field = 'namespace'
      throw err
    }
    const envelope: EventEnvelope = { type: type as EventType, namespace, data: data as never, timestamp: Date.now() }
    const audience = audienceOf(rule, data as Record<string, unknown>, options, opts.ownerField)
    const target = socketTarget(audience)
    const outcome: PublishOutcome = { eventId: randomUUID(), type: envelope.type, namespace, timestamp: envelope.timestamp }
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
