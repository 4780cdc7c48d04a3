/**
 * Who receives an event: the matrix row, narrowed by the payload's `targetRoles` and by the publisher's
 * broadcasting options, never widened. One `Audience` drives both transports: `socketTarget()` turns it
 * into the core's publish target (tenant-scoped rooms, so filtering happens on the server and on every
 * node through the adapter), `reaches()` is the same rule for one plain-WebSocket client.
 */
import { Type, type Static } from 'realtime-server'
import { EVERYONE, type MatrixRule } from './matrix.js'
import { memberRoom } from './rooms.js'

/** The broadcasting options of the seed, per publish. Each one can only narrow who receives the event. */
export interface BroadcastOptions {
  /** Only these roles (intersected with the roles the matrix allows; `*` narrows nothing). */
  roles?: readonly string[]
  /** Only these users (who must still hold a role the matrix allows). */
  userIds?: readonly string[]
  /** Deliver in this namespace instead of the event's own (one of the configured namespaces). */
  namespace?: string
  /** Never these users. */
  excludeUserIds?: readonly string[]
  /**
   * Never these sessions: Socket.IO socket ids (of the namespace the event is delivered in) and plain-WebSocket
   * session ids (announced by the endpoint on connection). Typically the sender's own, so that a change made in
   * one tab is not echoed back to it.
   */
  excludeSessionIds?: readonly string[]
}

const Names = (description: string) => Type.Array(Type.String(), { description })

/**
 * A serialisable description of the recipients of one event within its tenant (it travels between nodes, so
 * it is a schema: a node checks what another sends).
 */
export const Audience = Type.Object({
  everyone: Type.Boolean({ description: 'Every user of the tenant, whatever their roles (the table\'s "all").' }),
  roles: Names('Roles that receive the event.'),
  ownerRoles: Names('Roles that receive it only when `owner` is their own user id.'),
  owner: Type.Optional(Type.String({ description: 'The user id in the payload\'s owner field, if any.' })),
  users: Type.Optional(Names('When set, nobody but these users.')),
  exceptUsers: Names('Never these users.'),
  exceptSessions: Type.Optional(Names('Never these sessions (Socket.IO socket ids, WebSocket session ids); absent when none.'))
}, { additionalProperties: false })
export type Audience = Static<typeof Audience>

/** The recipient side of a check: a verified identity. */
export interface Member {
  readonly userId: string
  readonly roles: readonly string[]
}

const uniq = (list: readonly string[]): string[] => [...new Set(list)]

/** The audience of one event. `ownerField` names the payload field that holds the owner's user id. */
export function audienceOf (rule: MatrixRule, data: Record<string, unknown>, options: BroadcastOptions, ownerField: string): Audience {
  let everyone = rule.roles.includes(EVERYONE)
  let roles = everyone ? [] : uniq(rule.roles)
  let ownerRoles = everyone ? [] : rule.ownerRoles.filter((r) => roles.includes(r))
  const narrow = (allowed: readonly string[]): void => {
    if (allowed.includes(EVERYONE)) return
    if (everyone) {
      everyone = false
      roles = uniq(allowed)
    } else {
      roles = roles.filter((r) => allowed.includes(r))
      ownerRoles = ownerRoles.filter((r) => allowed.includes(r))
    }
  }
  if (rule.targetRoles && Array.isArray(data.targetRoles)) narrow(data.targetRoles.filter((r): r is string => typeof r === 'string'))
  if (options.roles !== undefined) narrow(options.roles)
  const owner = data[ownerField]
  const audience: Audience = {
    everyone,
    roles: roles.filter((r) => !ownerRoles.includes(r)),
    ownerRoles,
    exceptUsers: uniq(options.excludeUserIds ?? [])
  }
  if (typeof owner === 'string' && owner !== '' && ownerRoles.length > 0) audience.owner = owner
  if (options.userIds !== undefined) audience.users = uniq(options.userIds)
  if (options.excludeSessionIds !== undefined && options.excludeSessionIds.length > 0) audience.exceptSessions = uniq(options.excludeSessionIds)
  return audience
}

/** Whether a user with these roles receives the event (the plain-WebSocket side of the rule); `session` is the connection's id. */
export function reaches (a: Audience, m: Member, session?: string): boolean {
  if (a.exceptUsers.includes(m.userId)) return false
  if (a.exceptSessions !== undefined && session !== undefined && a.exceptSessions.includes(session)) return false
  if (a.users !== undefined && !a.users.includes(m.userId)) return false
  if (a.everyone) return true
  if (m.roles.some((r) => a.roles.includes(r))) return true
  return a.owner === m.userId && m.roles.some((r) => a.ownerRoles.includes(r))
}

/** The core publish target of an audience (Socket.IO side), or `undefined` when nobody may receive it. */
export function socketTarget (a: Audience): { users?: string[], roles?: string[], rooms?: string[], except?: { users?: string[], socketIds?: string[] } } | undefined {
  const except = a.exceptUsers.length > 0 || a.exceptSessions !== undefined
    ? { except: { ...(a.exceptUsers.length > 0 ? { users: a.exceptUsers } : {}), ...(a.exceptSessions === undefined ? {} : { socketIds: a.exceptSessions }) } }
    : {}
  const { owner, users } = a
  // An empty list must never reach the core: a publish whose rooms are all empty lists is not tenant-scoped.
  if (users?.length === 0) return undefined
  if (a.everyone) return { ...(users === undefined ? {} : { users }), ...except }
  const owners = owner === undefined || (users !== undefined && !users.includes(owner))
    ? []
    : a.ownerRoles.map((r) => memberRoom(r, owner))
  if (users !== undefined) {
    const rooms = [...a.roles.flatMap((r) => users.map((u) => memberRoom(r, u))), ...owners]
    return rooms.length === 0 ? undefined : { rooms, ...except }
  }
  if (a.roles.length === 0 && owners.length === 0) return undefined
  return { ...(a.roles.length > 0 ? { roles: a.roles } : {}), ...(owners.length > 0 ? { rooms: owners } : {}), ...except }
}
