/**
 * Every room name tenant-broadcast builds: `<kind>:<id>` for a room of a declared kind (`subscribe:<kind>`, and
 * `to.room` of the triggers). The core scopes each to the socket's or the event's tenant.
 */

/** The room of `id` within a declared room kind. */
export const kindRoom = (kind: string, id: string): string => `${kind}:${id}`

/** The kind part of a room name of the shape `kindRoom` builds (undefined for another shape). */
export function kindOfRoom (room: string): string | undefined {
  const i = room.indexOf(':')
  return i > 0 ? room.slice(0, i) : undefined
}
