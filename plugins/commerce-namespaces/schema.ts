/**
 * Options of commerce-namespaces: the namespaces, the role matrix (matrix.ts: the seed's quick-reference table
 * by default) and the plain WebSocket endpoint. Each matrix row is its own object with per-field defaults, so
 * a config overriding `roles` of one event keeps that event's namespace and every other row.
 */
import { Type, type Static } from 'realtime-server'
import { descriptions, eventTypes, type EventType } from './events.js'
import { seedMatrix } from './matrix.js'

const NAME = '^[a-z0-9][a-z0-9_-]*$'
const NamespaceName = Type.String({ pattern: NAME, description: 'A namespace name without the slash; Socket.IO clients connect to `/<name>`.' })
const RoleList = (description: string, defaultValue: string[]) =>
  Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, default: defaultValue, description })

const rule = (type: EventType) => {
  const row = seedMatrix[type]
  return Type.Object({
    namespace: Type.String({ pattern: NAME, default: row.namespace, description: 'Namespace the event is delivered in; one of `namespaces`.' }),
    roles: RoleList('Roles that receive it; `*` for every user of the tenant. Empty: nobody.', row.roles),
    ownerRoles: RoleList('Roles among `roles` that receive it only when the payload\'s owner field (`ownerField`) is their own user id.', row.ownerRoles ?? []),
    targetRoles: Type.Boolean({ default: row.targetRoles ?? false, description: 'Whether the payload\'s `targetRoles` narrows `roles` further.' })
  }, { additionalProperties: false, default: {}, description: descriptions[type] })
}

// Object.fromEntries forgets the keys: every event type has its row.
const matrixProperties = Object.fromEntries(eventTypes.map((type) => [type, rule(type)])) as Record<EventType, ReturnType<typeof rule>>

export const options = Type.Object({
  namespaces: Type.Array(NamespaceName, {
    minItems: 1,
    uniqueItems: true,
    default: ['orders', 'customers', 'inventory', 'products', 'payments', 'system'],
    description: 'The namespaces served, on Socket.IO (`/<name>`) and on the plain WebSocket (subscribed by name).'
  }),
  matrix: Type.Object(matrixProperties, {
    additionalProperties: false,
    default: {},
    description: 'Per event type: its namespace and who receives it. Defaults to the commerce back office protocol\'s table; a row given here replaces only the fields it names.'
  }),
  ownerField: Type.String({
    minLength: 1,
    default: 'customerId',
    description: 'Payload field holding the user id of the event\'s owner, for `ownerRoles`.'
  }),
  websocket: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'Serve the plain WebSocket endpoint.' }),
    path: Type.String({ pattern: '^/', default: '/ws/commerce', description: 'HTTP path of the plain WebSocket endpoint (must not overlap socketio.path).' }),
    maxPayloadBytes: Type.Integer({ minimum: 128, default: 65536, description: 'Largest message a client may send; a larger one closes the connection (1009).' }),
    heartbeatMs: Type.Integer({ minimum: 1000, default: 30000, description: 'Interval of server pings; a client that has not answered the previous ping is dropped.' }),
    closeTimeoutMs: Type.Integer({ minimum: 0, default: 2000, description: 'On shutdown, how long clients get to finish the close handshake before they are cut.' })
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false })

export type CommerceOptions = Static<typeof options>
