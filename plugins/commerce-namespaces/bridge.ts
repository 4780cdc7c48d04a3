/**
 * Events other plugins publish into the commerce namespaces (presence's `customer:online` in /customers,
 * say) reach the plain-WebSocket clients too, with this plugin's filtering: the matrix row of the type,
 * narrowed by the publisher's roles, users and exclusions, never widened. Types outside the matrix, and
 * payloads that do not match their schema, stay on Socket.IO.
 */
import type { PluginNamespace, PublishedEvent, RealtimeApi } from 'realtime-server'
import { audienceOf } from './audience.js'
import { isEventType } from './events.js'
import type { Delivery, PayloadValidators } from './publisher.js'
import type { CommerceOptions } from './schema.js'

/** Whether the publisher's `meta` is this event's envelope (then the WebSocket clients get the same one). */
const isEnvelope = (meta: unknown, type: string, namespace: string): boolean =>
  typeof meta === 'object' && meta !== null &&
  'type' in meta && meta.type === type &&
  'namespace' in meta && meta.namespace === namespace &&
  'timestamp' in meta && typeof meta.timestamp === 'number'

export function bridgeToWebSockets (
  realtime: RealtimeApi,
  opts: CommerceOptions,
  namespaces: ReadonlyMap<string, PluginNamespace>,
  validators: PayloadValidators,
  toWebSockets: (d: Delivery) => void
): void {
  for (const [namespace, ns] of namespaces) {
    ns.onPublish(({ input, meta, plugin }: PublishedEvent) => {
      const type = input.event
      if (!isEventType(type) || opts.matrix[type].namespace !== namespace) return
      const data = input.payload
      const validator = validators.get(type)
      if (validator === undefined || !validator.check(data)) {
        realtime.log.warn({ type, from: plugin }, 'event published into a commerce namespace does not match its schema; not sent to WebSocket clients')
        return
      }
      const envelope = isEnvelope(meta, type, namespace) ? meta : { type, namespace, data, timestamp: Date.now() }
      const audience = audienceOf(opts.matrix[type], data, { roles: input.roles, userIds: input.users, excludeUserIds: input.except?.users }, opts.ownerField)
      toWebSockets({ tenantId: input.tenantId, namespace, audience, text: JSON.stringify(envelope) })
    })
  }
}
