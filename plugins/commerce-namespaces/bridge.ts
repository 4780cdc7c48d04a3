/**
 * Events other plugins publish into the commerce namespaces (presence's `customer:online` in /customers,
 * say) reach the plain-WebSocket clients too, with this plugin's filtering: the matrix row of the type,
 * narrowed by the publisher's roles, users and exclusions, never widened. Types outside the matrix, and
 * payloads that do not match their schema, stay on Socket.IO.
 */
import type { PluginNamespace, PublishedEvent, RealtimeApi, Validator } from 'realtime-server'
import { audienceOf } from './audience.js'
import type { EventEnvelope, EventType } from './events.js'
import type { Delivery } from './publisher.js'
import type { CommerceOptions } from './schema.js'

const isEnvelope = (meta: unknown, type: string, namespace: string): meta is EventEnvelope =>
  meta !== null && typeof meta === 'object' && (meta as EventEnvelope).type === type &&
  (meta as EventEnvelope).namespace === namespace && typeof (meta as EventEnvelope).timestamp === 'number'

export function bridgeToWebSockets (
  realtime: RealtimeApi,
  opts: CommerceOptions,
  namespaces: ReadonlyMap<string, PluginNamespace>,
  validators: ReadonlyMap<string, Validator<unknown>>,
  toWebSockets: (d: Delivery) => void
): void {
  for (const [namespace, ns] of namespaces) {
    ns.onPublish(({ input, meta, plugin }: PublishedEvent) => {
      const rule = opts.matrix[input.event as EventType] as CommerceOptions['matrix'][EventType] | undefined
      if (rule === undefined || rule.namespace !== namespace) return
      if (validators.get(input.event)?.check(input.payload) !== true) {
        realtime.log.warn({ type: input.event, from: plugin }, 'event published into a commerce namespace does not match its schema; not sent to WebSocket clients')
        return
      }
      const data = input.payload as Record<string, unknown>
      const envelope = isEnvelope(meta, input.event, namespace) ? meta : { type: input.event, namespace, data, timestamp: Date.now() }
      const audience = audienceOf(rule, data, { roles: input.roles, userIds: input.users, excludeUserIds: input.except?.users }, opts.ownerField)
      toWebSockets({ tenantId: input.tenantId, namespace, audience, text: JSON.stringify(envelope) })
    })
  }
}
