/**
 * The event catalog: what clients may send (with the ack and the error codes each answers) and what the server
 * emits. Both depend on the options (room kinds, languages, developmentMode, heartbeat, catalogs, custom events),
 * so `events(options)` builds the catalog of a configuration; the socket handlers validate with these same schemas.
 */
import { AccessData, Id, TenantId, Type, type ClientEvent, type EventCatalog, type RoomEntry, type ServerEvent, type Static, type TSchema } from 'realtime-server'
import { selectedEventTypes } from './event-types.js'
import type { TenantBroadcastOptions } from './schema.js'

export const RoomId = Id('Id of the room within its kind, e.g. a campaign id.')

/** `join-tenant` (the CRM tenant events protocol's reconnect habit): acknowledged for the socket's own tenant only. */
export const JoinTenant = Type.Object({ tenantId: TenantId }, { additionalProperties: false })
export const JoinTenantAck = Type.Object({ ok: Type.Literal(true), tenantId: TenantId })

/** `subscribe:<kind>` / `unsubscribe:<kind>`: the id bare (WhatsApp CRM rooms) or as `{ id }`. */
export const RoomRef = Type.Union([RoomId, Type.Object({ id: RoomId })])
/** The ack of `subscribe:<kind>` and `unsubscribe:<kind>`, for one kind. */
const subscriptionAck = (kind: string) => Type.Object({ ok: Type.Literal(true), kind: Type.Literal(kind), id: RoomId, data: AccessData })

/** `ping` (WhatsApp CRM rooms): any payload, or none. */
export const Ping = Type.Unknown({ description: 'Ignored.' })
/** `pong` (WhatsApp CRM rooms), the answer to `ping`: emitted, and the ack. */
export const Pong = Type.Object({ timestamp: Type.Integer({ description: 'Server time, epoch ms.' }) })
export type Pong = Static<typeof Pong>

/** `test-event` (CRM tenant events, development mode only): an event published into the sender's own tenant. */
export const testEventSchema = (languages: readonly string[]) => Type.Object({
  type: Type.String({ minLength: 1 }),
  payload: Type.Unknown(),
  language: Type.Optional(Type.Enum([...languages]))
}, { additionalProperties: false })
export type TestEvent = Static<ReturnType<typeof testEventSchema>>
/** `test-event` without developmentMode: anything, refused with RT_BROADCAST_DEVELOPMENT_ONLY. */
export const TestEventDisabled = Type.Unknown({ description: 'Refused: developmentMode is off.' })

/** What a publish answers: the ack of `test-event`, and the body of `POST /events`. */
export const PublishAck = Type.Object({
  eventId: Type.String(),
  recipients: Type.Optional(Type.Integer({ minimum: 0, description: 'Sockets reached, on every node.' })),
  partial: Type.Optional(Type.Boolean({ description: 'Some node did not report its count in time.' }))
})

/** The catalog of a configuration: the client events it handles, the server events it may emit. */
export function events (options: TenantBroadcastOptions): EventCatalog {
  const client: Record<string, ClientEvent> = {
    'join-tenant': {
      payload: JoinTenant,
      ack: JoinTenantAck,
      errors: ['RT_BROADCAST_TENANT_MISMATCH'],
      description: 'Confirms the socket\'s own tenant (it is in its tenant\'s room from the handshake); any other tenant is refused.'
    },
    'test-event': options.developmentMode
      ? {
          payload: testEventSchema(options.languages),
          ack: PublishAck,
          errors: ['RT_BROADCAST_UNKNOWN_EVENT', 'RT_ERR_NOT_READY'],
          description: 'Publishes an event of the enabled catalogs into the sender\'s whole tenant, sender included (development mode).'
        }
      : {
          payload: TestEventDisabled,
          errors: ['RT_BROADCAST_DEVELOPMENT_ONLY'],
          description: 'Refused: developmentMode is off.'
        }
  }
  if (options.heartbeat) client.ping = { payload: Ping, ack: Pong, description: 'Answered with `pong` { timestamp }, also as the ack.' }
  for (const { kind } of options.rooms) {
    client[`subscribe:${kind}`] = {
      payload: RoomRef,
      ack: subscriptionAck(kind),
      errors: ['RT_BROADCAST_TOO_MANY_SUBSCRIPTIONS', 'RT_BROADCAST_SUBSCRIBE_REFUSED'],
      description: `Joins the ${kind} room of the id, if the kind's access policy allows it.`
    }
    client[`unsubscribe:${kind}`] = {
      payload: RoomRef,
      ack: subscriptionAck(kind),
      description: `Leaves the ${kind} room of the id.`
    }
  }

  const server: Record<string, TSchema | ServerEvent> = {}
  // Long form: a custom event's schema is plain JSON Schema, which could look like the long form itself.
  for (const { type, schema } of selectedEventTypes(options)) server[type] = { payload: schema }
  if (options.heartbeat) server.pong = { payload: Pong, description: 'The answer to `ping`.' }
  // The room kinds: what `to.room` of the triggers targets, and what the core's control routes may move users into.
  const rooms: Record<string, RoomEntry> = {}
  for (const { kind } of options.rooms) {
    rooms[`${kind}:{id}`] = { description: `A ${kind} room: the sockets subscribed with \`subscribe:${kind}\`.`, namespaces: [options.namespace] }
  }
  return { client, server, rooms }
}
