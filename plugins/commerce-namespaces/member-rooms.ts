/**
 * Keeps every Socket.IO socket in one room per role of its user (`memberRoom(role, userId)`), the rooms that
 * let the core target "this user, with that role" (owner-only events, `userIds`). The core moves a socket's
 * role rooms when `auth:refresh` changes its roles; this does the same for the member rooms, so that the
 * Socket.IO side keeps matching the plain WebSocket side, which filters on the live identity.
 */
import { bareToken, type Identity, type PluginNamespace, type RealtimeApi, type SocketContext } from 'realtime-server'
import { memberRoom } from './audience.js'

const roomsOf = (user: Pick<Identity, 'userId' | 'roles'>): string[] => user.roles.map((r) => memberRoom(r, user.userId))

/** The token of an `auth:refresh` payload, as the core reads it: `{ token }` or the string, `Bearer ` optional. */
function refreshToken (data: unknown): string | undefined {
  return bareToken(data !== null && typeof data === 'object' ? (data as { token?: unknown }).token : data)
}

export function trackMemberRooms (realtime: RealtimeApi, ns: PluginNamespace): void {
  ns.onConnection((ctx: SocketContext) => {
    let current = roomsOf(ctx.user)
    ctx.join(current)
    // The core verifies the same token and answers the client; this only mirrors an accepted change of roles.
    ctx.socket.on('auth:refresh', (data: unknown) => {
      const token = refreshToken(data)
      if (token === undefined) return
      const before = ctx.user
      realtime.verifyToken(token).then((next) => {
        if (next.userId !== before.userId || next.tenantId !== before.tenantId || !ctx.socket.connected) return
        const rooms = roomsOf(next)
        for (const r of current) if (!rooms.includes(r)) ctx.leave(r)
        ctx.join(rooms)
        current = rooms
      }, () => {})
    })
  })
}
