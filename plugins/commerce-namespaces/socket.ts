/**
 * The Socket.IO side of commerce-namespaces: one namespace per configured name (`/<name>`, times in epoch ms),
 * nothing for clients to send. Every socket sits in one member room per role of its user (rooms.ts), the rooms
 * that let the core target "this user, with that role" (owner-only events, `userIds`). When `auth:refresh`
 * changes a socket's roles, the core moves its role rooms and this moves its member rooms, so that the
 * Socket.IO side keeps matching the plain WebSocket side, which filters on the live identity.
 */
import type { Identity, PluginApp, PluginNamespace, SocketContext } from 'realtime-server'
import { memberRooms } from './rooms.js'
import type { CommerceOptions } from './schema.js'

const joinMemberRooms = (ctx: SocketContext): void => { ctx.join(memberRooms(ctx.user)) }

const moveMemberRooms = (ctx: SocketContext, previous: Identity): void => {
  const rooms = memberRooms(ctx.user)
  for (const r of memberRooms(previous)) if (!rooms.includes(r)) ctx.leave(r)
  ctx.join(rooms)
}

/** Declares the namespaces (by name without the slash) and keeps their sockets in their member rooms. */
export function registerSocketHandlers (app: PluginApp, opts: CommerceOptions): ReadonlyMap<string, PluginNamespace> {
  return new Map(opts.namespaces.map((name) => {
    // Seed 002: every time in epoch ms, the core's `auth:expired` and `error` included.
    const ns = app.realtime.namespace(`/${name}`, { timeFormat: 'epoch-ms' })
      .onConnection(joinMemberRooms)
      .onIdentityChange(moveMemberRooms)
    return [name, ns] as const
  }))
}
