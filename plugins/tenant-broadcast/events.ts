/**
 * Payload schemas of the events clients send and receive. Server events are the catalogs (the CRM tenant events
 * and WhatsApp CRM rooms protocols) plus `pong`; what a deployment accepts also depends on its options (catalogs, custom events,
 * room kinds, languages), so the socket handlers and routes build their schemas from these at setup.
 */
import { Type, type TSchema } from 'realtime-server'
import { crmTenantEvents, whatsappCrmEvents } from './catalogs/index.js'

export const TenantId = Type.String({ minLength: 1, maxLength: 200 })
export const RoomId = Type.String({ minLength: 1, maxLength: 200, description: 'Id of the room within its kind, e.g. a campaign id.' })

/** `join-tenant` (the CRM tenant events protocol's reconnect habit): acknowledged for the socket's own tenant only. */
export const JoinTenant = Type.Object({ tenantId: TenantId }, { additionalProperties: false })

/** `subscribe:<kind>` / `unsubscribe:<kind>`: the id bare (WhatsApp CRM rooms) or as `{ id }`. */
export const RoomRef = Type.Union([RoomId, Type.Object({ id: RoomId })])

/** `test-event` (CRM tenant events, development mode only): an event published into the sender's own tenant. */
export const testEventSchema = (languages: readonly string[]): TSchema => Type.Object({
  type: Type.String({ minLength: 1 }),
  payload: Type.Unknown(),
  language: Type.Optional(Type.Enum([...languages]))
}, { additionalProperties: false })

/** `pong` (WhatsApp CRM rooms), the answer to `ping`. */
export const Pong = Type.Object({ timestamp: Type.Integer({ description: 'Server time, epoch ms.' }) })

export const events = {
  client: {
    'join-tenant': JoinTenant,
    'subscribe:{kind}': RoomRef,
    'unsubscribe:{kind}': RoomRef,
    ping: Type.Unknown(),
    'test-event': testEventSchema(['en', 'ar'])
  },
  server: {
    ...crmTenantEvents,
    ...whatsappCrmEvents,
    pong: Pong
  }
}
