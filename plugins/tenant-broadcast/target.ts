/**
 * `to`: who in the tenant receives an event. Absent: the whole tenant. Otherwise any of users, one room
 * of a declared kind, and roles; they add up (a socket matching several gets the event once).
 */
import { Id, Type, validationError } from 'realtime-server'
import { RoomId } from './events.js'

export interface RoomTarget {
  kind: string
  id: string
}

export interface Target {
  users?: string[]
  room?: RoomTarget
  roles?: string[]
}

const Name = Id('A user id or a role.')

/** The `to` schema for the configured room kinds (a `room` that is always refused when none are declared). */
export function targetSchema (kinds: readonly string[]) {
  const room = kinds.length > 0
    ? Type.Object({ kind: Type.Enum([...kinds]), id: RoomId }, { additionalProperties: false, description: 'One room of a declared kind, e.g. { kind: "campaign", id: "42" }.' })
    // Accepted by the schema only to be refused by `assertRoomKinds` with the reason, rather than as an unknown
    // property: so no value of it reaches a publish, and the static type can be the room's.
    : Type.Unsafe<RoomTarget>(Type.Unknown({ description: 'No room kinds are declared (options.rooms): refused.' }))
  return Type.Object({
    users: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000, description: 'User ids (the JWT subject) of the tenant.' })),
    roles: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 100, description: 'Roles (the JWT role claim) within the tenant.' })),
    room: Type.Optional(room)
  }, { additionalProperties: false, minProperties: 1, description: 'Recipients within the tenant; omit for the whole tenant.' })
}

/** Refuses `to.room` (400 naming `<at>to.room`) when no room kinds are declared: the schema lets it through for this. */
export function assertRoomKinds (kinds: readonly string[], to: Target | undefined, at = ''): void {
  if (kinds.length === 0 && to?.room !== undefined) {
    throw validationError({ field: `${at}to.room`, message: 'no room kinds are declared on this server (plugins.tenant-broadcast.options.rooms is empty); declare the kind, or target users, roles or the whole tenant' })
  }
}
