/**
 * The Socket.IO side of commerce-namespaces: one namespace per configured name (`/<name>`, times in epoch ms),
 * nothing for clients to send. Every socket sits in one member room per role of its user (rooms.ts), the rooms
 * that let the core target "this user, with that role" (owner-only events, `userIds`). The core moves a
 * socket's role rooms when `auth:refresh` changes its roles; this does the same for the member rooms, so that
 * the Socket.IO side keeps matching the plain WebSocket side, which filters on the live identity.
 */
import { bareToken, type PluginApp, type PluginNamespace, type SocketContext } from 'realtime-server'
import { memberRooms } from './rooms.js'
import type { CommerceOptions } from './schema.js'

/** The token of an `auth:refresh` payload, as the core reads it: `{ token }` or the string, `Bearer ` optional. */
function refreshToken (data: unknown): string | undefined {
  return bareToken(typeof data === 'object' && data !== null && 'token' in data ? data.token : data)
}

/** Declares the namespaces (by name without the slash) and keeps their sockets in their member rooms. */
export function registerSocketHandlers (app: PluginApp, opts: CommerceOptions): ReadonlyMap<string, PluginNamespace> {
  const { realtime } = app
  const trackMemberRooms = (ctx: SocketContext): void => {
    let current = memberRooms(ctx.user)
    ctx.join(current)
    // The core verifies the same token and answers the client; this only mirrors an accepted change of roles.
    ctx.socket.on('auth:refresh', (data: unknown) => {
      const token = refreshToken(data)
      if (token === undefined) return
      const before = ctx.user
      realtime.verifyToken(token).then((next) => {
        if (next.userId !== before.userId || next.tenantId !== before.tenantId || !ctx.socket.connected) return
        const rooms = memberRooms(next)
        for (const r of current) if (!rooms.includes(r)) ctx.leave(r)
        ctx.join(rooms)
        current = rooms
      }, () => {})
    })
  }
  return new Map(opts.namespaces.map((name) => {
    // Seed 002: every time in epoch ms, the core's `auth:expired` and `error` included.
    const ns = realtime.namespace(`/${name}`, { timeFormat: 'epoch-ms' }).onConnection(trackMemberRooms)
    return [name, ns] as const
  }))
}
