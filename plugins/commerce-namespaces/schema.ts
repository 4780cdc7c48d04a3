/**
 * Options of commerce-namespaces: the namespaces, the role matrix (the seed's quick-reference table by
 * default) and the plain WebSocket endpoint. Each matrix row is its own object with per-field defaults, so
 * a config overriding `roles` of one event keeps that event's namespace and every other row.
 */
import { Type, type Static } from 'realtime-server'
import type { EventType } from './events.js'

/** In `roles`: every authenticated user of the tenant, whatever their role (the table's "all"). */
export const EVERYONE = '*'

interface Row {
  namespace: string
  roles: string[]
  ownerRoles?: string[]
  targetRoles?: boolean
  description: string
}

const staff = ['admin', 'manager', 'staff']
const managers = ['admin', 'manager']

/** The commerce back office protocol's quick-reference table. `ownerRoles` is its footnote: a customer sees only their own events. */
export const seedMatrix: Record<EventType, Row> = {
  'order:created': { namespace: 'orders', roles: staff, description: 'New order placed' },
  'order:updated': { namespace: 'orders', roles: staff, description: 'Order modified' },
  'order:status_changed': { namespace: 'orders', roles: [...staff, 'customer'], ownerRoles: ['customer'], description: 'Status transition' },
  'order:deleted': { namespace: 'orders', roles: managers, description: 'Order cancelled' },
  'customer:activity': { namespace: 'customers', roles: staff, description: 'Customer action' },
  'customer:viewing_product': { namespace: 'customers', roles: managers, description: 'Product view' },
  'customer:added_to_cart': { namespace: 'customers', roles: managers, description: 'Cart update' },
  'customer:online': { namespace: 'customers', roles: staff, description: 'Customer connected' },
  'customer:offline': { namespace: 'customers', roles: staff, description: 'Customer disconnected' },
  'inventory:updated': { namespace: 'inventory', roles: staff, description: 'Stock changed' },
  'inventory:low_stock': { namespace: 'inventory', roles: staff, description: 'Low stock alert' },
  'inventory:out_of_stock': { namespace: 'inventory', roles: staff, description: 'No stock' },
  'inventory:restocked': { namespace: 'inventory', roles: staff, description: 'Stock added' },
  'product:price_changed': { namespace: 'products', roles: [EVERYONE], description: 'Price updated' },
  'product:created': { namespace: 'products', roles: staff, description: 'New product' },
  'product:updated': { namespace: 'products', roles: staff, description: 'Product modified' },
  'product:deleted': { namespace: 'products', roles: managers, description: 'Product removed' },
  'payment:received': { namespace: 'payments', roles: [...managers, 'customer'], ownerRoles: ['customer'], description: 'Payment completed' },
  'payment:failed': { namespace: 'payments', roles: [...managers, 'customer'], ownerRoles: ['customer'], description: 'Payment failed' },
  'payment:refunded': { namespace: 'payments', roles: [...managers, 'customer'], ownerRoles: ['customer'], description: 'Refund issued' },
  'system:notification': { namespace: 'system', roles: [EVERYONE], targetRoles: true, description: 'General notice' },
  'system:alert': { namespace: 'system', roles: [EVERYONE], targetRoles: true, description: 'Important alert' },
  'system:maintenance': { namespace: 'system', roles: [EVERYONE], description: 'Maintenance notice' }
}

const NAME = '^[a-z0-9][a-z0-9_-]*$'
const NamespaceName = Type.String({ pattern: NAME, description: 'A namespace name without the slash; Socket.IO clients connect to `/<name>`.' })
const RoleList = (description: string, defaultValue: string[]) =>
  Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, default: defaultValue, description })

const rule = (row: Row) => Type.Object({
  namespace: Type.String({ pattern: NAME, default: row.namespace, description: 'Namespace the event is delivered in; one of `namespaces`.' }),
  roles: RoleList('Roles that receive it; `*` for every user of the tenant. Empty: nobody.', row.roles),
  ownerRoles: RoleList('Roles among `roles` that receive it only when the payload\'s owner field (`ownerField`) is their own user id.', row.ownerRoles ?? []),
  targetRoles: Type.Boolean({ default: row.targetRoles ?? false, description: 'Whether the payload\'s `targetRoles` narrows `roles` further.' })
}, { additionalProperties: false, default: {}, description: row.description })

const matrixProperties = Object.fromEntries(Object.entries(seedMatrix).map(([type, row]) => [type, rule(row)])) as { [T in EventType]: ReturnType<typeof rule> }

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
export type MatrixRule = CommerceOptions['matrix'][EventType]

/**
 * What the schema cannot say: rows use configured namespaces, owner roles are among a row's roles, and the
 * WebSocket path stays clear of Socket.IO's. Returns the problems, `matrix.<type>.<field>: reason`.
 */
export function inconsistencies (opts: CommerceOptions, socketioPath: string): string[] {
  const problems: string[] = []
  for (const [type, rule] of Object.entries(opts.matrix)) {
    if (!opts.namespaces.includes(rule.namespace)) problems.push(`matrix.${type}.namespace: "${rule.namespace}" is not in namespaces`)
    if (rule.ownerRoles.length > 0 && rule.roles.includes(EVERYONE)) problems.push(`matrix.${type}.ownerRoles: cannot restrict "${EVERYONE}"; list the roles instead`)
    for (const r of rule.ownerRoles) if (!rule.roles.includes(r) && !rule.roles.includes(EVERYONE)) problems.push(`matrix.${type}.ownerRoles: "${r}" is not in roles`)
  }
  const ws = opts.websocket.path.replace(/\/+$/, '')
  const sio = socketioPath.replace(/\/+$/, '')
  if (opts.websocket.enabled && (ws === sio || ws.startsWith(`${sio}/`))) {
    problems.push(`websocket.path: "${opts.websocket.path}" overlaps socketio.path "${socketioPath}"`)
  }
  return problems
}
