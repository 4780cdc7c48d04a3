/** The plugin's options: validated by the core at start-up, defaults applied. See the README's options table. */
import { AccessPolicyOptions, Type, type Static } from 'realtime-server'
import { catalogNames } from './catalogs/index.js'

/** Names a custom event may have: letters, digits, `_ . : -` (checked at setup, see event-types.ts). */
export const EVENT_NAME = '^[A-Za-z0-9][A-Za-z0-9_.:-]*$'
/** Names of room kinds: they become `subscribe:<kind>` events and the `<kind>:` prefix of room names. */
const ROOM_KIND = '^[a-z][a-z0-9_-]*$'

const RoomKindOptions = Type.Object({
  kind: Type.String({ pattern: ROOM_KIND, maxLength: 64, description: 'Room kind: clients send `subscribe:<kind>` / `unsubscribe:<kind>` with an id; publishers target `{ room: { kind, id } }`.' }),
  access: Type.Union([...AccessPolicyOptions.anyOf], {
    default: { mode: 'tenant' },
    description: 'Who may subscribe (the core\'s shared access policy): `tenant` (any id of the own tenant), `claim` (ids listed in a JWT claim), `roles`, or `hook` (ask a backend).'
  })
}, { additionalProperties: false })

const CustomEventOptions = Type.Object({
  schema: Type.Object({}, { additionalProperties: true, description: 'JSON Schema of the payload.' }),
  description: Type.Optional(Type.String({ description: 'Shown by GET /api/tenant-broadcast/events.' }))
}, { additionalProperties: false })

export const options = Type.Object({
  namespace: Type.String({ pattern: '^/', default: '/', description: 'Socket.IO namespace clients connect to and events are published into.' }),
  catalogs: Type.Array(Type.Enum(catalogNames), {
    uniqueItems: true,
    default: [...catalogNames],
    description: 'Event catalogs accepted by the triggers: `crm-tenant-events` (CRM tenant events, 37 events), `whatsapp-crm` (WhatsApp CRM rooms server events).'
  }),
  // Names are checked at setup (EVENT_NAME): TypeBox's Value.Default throws on a Record with `additionalProperties: false`.
  customEvents: Type.Record(Type.String(), CustomEventOptions, {
    default: {},
    description: 'More events, by name (letters, digits, `_ . : -`), each with the JSON Schema of its payload: extends the server without code.'
  }),
  rooms: Type.Array(RoomKindOptions, {
    default: [],
    description: 'Room kinds clients may subscribe to, each with its access policy (WhatsApp CRM rooms: whatsapp, campaign, contact).'
  }),
  maxSubscriptions: Type.Integer({ minimum: 1, default: 100, description: 'Rooms of the declared kinds one socket may be subscribed to at once.' }),
  languages: Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    uniqueItems: true,
    default: ['en', 'ar'],
    description: 'Values accepted in `language` (CRM tenant events: en, ar); sent to clients in the event meta.'
  }),
  checkPayloadTenant: Type.Boolean({
    default: true,
    description: 'Refuse (400) an event whose payload.tenantId is a string other than the tenant it is published to.'
  }),
  developmentMode: Type.Boolean({ default: false, description: 'Accept the CRM tenant events protocol\'s `test-event` from sockets (into their own tenant only). Never in production.' }),
  heartbeat: Type.Boolean({ default: true, description: 'Answer `ping` with `pong` { timestamp } (WhatsApp CRM rooms). Turn off if another plugin on the namespace handles `ping`.' }),
  idempotency: Type.Object({
    windowMs: Type.Integer({ minimum: 1000, default: 86400000, description: 'How long an idempotency key is remembered with its result.' }),
    lockMs: Type.Integer({ minimum: 100, default: 10000, description: 'How long a key stays locked while its first request publishes (frees it if a node dies mid-request).' }),
    waitMs: Type.Integer({ minimum: 0, default: 5000, description: 'How long a concurrent request with the same key waits for the first one before 409.' })
  }, { additionalProperties: false, default: {} }),
  batch: Type.Object({
    maxEvents: Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'Most events in one batch request.' })
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false })

export type TenantBroadcastOptions = Static<typeof options>
/** One room kind of `options.rooms`, with its access policy. */
export type RoomKind = TenantBroadcastOptions['rooms'][number]
