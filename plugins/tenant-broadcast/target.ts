/**
 * `to`: who in the tenant receives an event. Absent: the whole tenant. Otherwise any of users, one room
 * of a declared kind, and roles; they add up (a socket matching several gets the event once).
 */
import { Type, type TSchema } from 'realtime-server'
import { RoomId } from './events.js'

export interface Target {
  users?: string[]
  room?: { kind: string, id: string }
  roles?: string[]
}

const Name = Type.String({ minLength: 1, maxLength: 200 })

/** The `to` schema for the configured room kinds (no `room` when none are declared). */
export function targetSchema (kinds: readonly string[]): TSchema {
  const properties: Record<string, TSchema> = {
    users: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000, description: 'User ids (the JWT subject) of the tenant.' })),
    roles: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 100, description: 'Roles (the JWT role claim) within the tenant.' }))
  }
  if (kinds.length > 0) {
    properties.room = Type.Optional(Type.Object({
      kind: Type.Enum([...kinds]),
      id: RoomId
    }, { additionalProperties: false, description: 'One room of a declared kind, e.g. { kind: "campaign", id: "42" }.' }))
  }
  return Type.Object(properties, { additionalProperties: false, minProperties: 1, description: 'Recipients within the tenant; omit for the whole tenant.' })
}

/** The plugin room a socket joins for `subscribe:<kind>` with `id` (the core scopes it to the tenant). */
export const roomName = (kind: string, id: string): string => `${kind}:${id}`
