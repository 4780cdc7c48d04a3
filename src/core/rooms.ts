/**
 * Room names are tenant-scoped by construction: every room the plugin API can join or target starts
 * with `t:<tenant>:`, the tenant percent-encoded so that it cannot contain the separator. The same
 * campaign id in two tenants is two rooms, and no name a plugin builds can reach another tenant.
 */

const enc = (s: string): string => (/^[\w.~-]+$/.test(s) ? s : encodeURIComponent(s))

/** Every socket of a tenant (in one namespace). */
export const tenantRoom = (tenantId: string): string => `t:${enc(tenantId)}`

/** Every socket of one user. */
export const userRoom = (tenantId: string, userId: string): string => `t:${enc(tenantId)}:u:${enc(userId)}`

/** Every socket whose token carries a role. */
export const roleRoom = (tenantId: string, role: string): string => `t:${enc(tenantId)}:r:${enc(role)}`

/** A plugin-defined room such as `campaign:42`. */
export const scopedRoom = (tenantId: string, room: string): string => `t:${enc(tenantId)}:#${room}`

/** The plugin-visible name of a scoped room, or undefined for the core's own rooms. */
export function unscopedRoom (name: string): string | undefined {
  const i = name.indexOf(':#')
  return name.startsWith('t:') && i > 0 ? name.slice(i + 2) : undefined
}
