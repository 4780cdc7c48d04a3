/** Every room name commerce-namespaces builds (Socket.IO side; the core scopes each to its tenant). */
import type { Identity } from 'realtime-server'

/**
 * The room of the sockets of one user holding one role. Every socket joins one per role on connection, so
 * that "this user, but only with that role" is a single tenant-scoped room the core can target.
 */
export const memberRoom = (role: string, userId: string): string =>
  `commerce:${encodeURIComponent(role)}:${encodeURIComponent(userId)}`

/** The member rooms of an identity: one per role. */
export const memberRooms = (user: Pick<Identity, 'userId' | 'roles'>): string[] => user.roles.map((r) => memberRoom(r, user.userId))
