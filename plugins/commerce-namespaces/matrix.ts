/**
 * The role matrix: who receives each event type and in which namespace. Its defaults are the commerce back
 * office protocol's quick-reference table; `matrixProblems()` checks what the options schema cannot say.
 */
import type { EventType } from './events.js'
import type { CommerceOptions } from './schema.js'

/** In `roles`: every authenticated user of the tenant, whatever their role (the table's "all"). */
export const EVERYONE = '*'

/** One row of the table: the defaults of `matrix.<type>`. */
export interface Row {
  namespace: string
  roles: string[]
  ownerRoles?: string[]
  targetRoles?: boolean
}

const staff = ['admin', 'manager', 'staff']
const managers = ['admin', 'manager']

/** The protocol's quick-reference table. `ownerRoles` is its footnote: a customer sees only their own events. */
export const seedMatrix: Record<EventType, Row> = {
  'order:created': { namespace: 'orders', roles: staff },
  'order:updated': { namespace: 'orders', roles: staff },
  'order:status_changed': { namespace: 'orders', roles: [...staff, 'customer'], ownerRoles: ['customer'] },
  'order:deleted': { namespace: 'orders', roles: managers },
  'customer:activity': { namespace: 'customers', roles: staff },
  'customer:viewing_product': { namespace: 'customers', roles: managers },
  'customer:added_to_cart': { namespace: 'customers', roles: managers },
  'customer:online': { namespace: 'customers', roles: staff },
  'customer:offline': { namespace: 'customers', roles: staff },
  'inventory:updated': { namespace: 'inventory', roles: staff },
  'inventory:low_stock': { namespace: 'inventory', roles: staff },
  'inventory:out_of_stock': { namespace: 'inventory', roles: staff },
  'inventory:restocked': { namespace: 'inventory', roles: staff },
  'product:price_changed': { namespace: 'products', roles: [EVERYONE] },
  'product:created': { namespace: 'products', roles: staff },
  'product:updated': { namespace: 'products', roles: staff },
  'product:deleted': { namespace: 'products', roles: managers },
  'payment:received': { namespace: 'payments', roles: [...managers, 'customer'], ownerRoles: ['customer'] },
  'payment:failed': { namespace: 'payments', roles: [...managers, 'customer'], ownerRoles: ['customer'] },
  'payment:refunded': { namespace: 'payments', roles: [...managers, 'customer'], ownerRoles: ['customer'] },
  'system:notification': { namespace: 'system', roles: [EVERYONE], targetRoles: true },
  'system:alert': { namespace: 'system', roles: [EVERYONE], targetRoles: true },
  'system:maintenance': { namespace: 'system', roles: [EVERYONE] }
}

/** One configured row, defaults applied. */
export type MatrixRule = CommerceOptions['matrix'][EventType]

/** The role names a publish's `roles` may use: every role of the matrix (`roles` and `ownerRoles` of any row), and `*`. */
export function configuredRoles (opts: CommerceOptions): ReadonlySet<string> {
  const names = new Set<string>()
  for (const rule of Object.values(opts.matrix)) for (const r of [...rule.roles, ...rule.ownerRoles]) if (r !== EVERYONE) names.add(r)
  names.add(EVERYONE)
  return names
}

/**
 * What the schema cannot say about the matrix: rows use configured namespaces, owner roles are among a row's
 * roles, and `*` has none. Returns the problems, `matrix.<type>.<field>: reason`.
 */
export function matrixProblems (opts: CommerceOptions): string[] {
  const problems: string[] = []
  // Rows left at the table's namespace that `namespaces` leaves out: one problem about `namespaces` (what the user
  // wrote), not one per row of a table the user never wrote.
  const leftOut = new Map<string, string[]>()
  for (const [type, rule] of Object.entries(opts.matrix)) {
    if (!opts.namespaces.includes(rule.namespace)) {
      if (rule.namespace === seedMatrix[type as EventType]?.namespace) leftOut.set(rule.namespace, [...(leftOut.get(rule.namespace) ?? []), type])
      else problems.push(`matrix.${type}.namespace: "${rule.namespace}" is not in namespaces`)
    }
    if (rule.ownerRoles.length > 0 && rule.roles.includes(EVERYONE)) problems.push(`matrix.${type}.ownerRoles: cannot restrict "${EVERYONE}"; list the roles instead`)
    for (const r of rule.ownerRoles) if (!rule.roles.includes(r) && !rule.roles.includes(EVERYONE)) problems.push(`matrix.${type}.ownerRoles: "${r}" is not in roles`)
  }
  if (leftOut.size > 0) {
    const names = [...leftOut.keys()]
    const types = [...leftOut.values()].flat()
    problems.unshift(`namespaces: leaves out ${names.map((n) => `"${n}"`).join(', ')}, where the default matrix delivers ${types.length} event type${types.length === 1 ? '' : 's'} (${types.slice(0, 2).join(', ')}${types.length > 2 ? ', ...' : ''}); add ${names.length === 1 ? 'it' : 'them'} to namespaces, or move those types with matrix.<type>.namespace`)
  }
  return problems
}
