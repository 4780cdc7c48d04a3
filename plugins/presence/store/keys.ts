/**
 * How presence names things in its store. A group is one online list of one tenant; both parts are
 * percent-encoded, so a group never contains `:` or a newline and groups of two tenants never collide.
 */

const enc = encodeURIComponent

/** The group of an online list (named by its namespace) in a tenant. */
export const groupKey = (list: string, tenantId: string): string => `${enc(list)}:${enc(tenantId)}`

/** The list and tenant of a group. */
export function parseGroup (group: string): { list: string, tenantId: string } {
  const i = group.indexOf(':')
  return { list: decodeURIComponent(group.slice(0, i)), tenantId: decodeURIComponent(group.slice(i + 1)) }
}

/** A room name as it appears in keys. */
export const roomKey = (room: string): string => enc(room)

/** One socket's membership of one list: unique across the cluster (socket ids are). */
export const membershipField = (socketId: string, list: string): string => `${socketId} ${enc(list)}`
