/**
 * The socket events of presence: `typing:start` / `typing:stop` on each typing namespace, and the
 * `presence:list` / `presence:status` queries (answered in the ack) on each online list's namespace.
 */
import type { RealtimeApi, SocketContext } from 'realtime-server'
import { NotInRoom, NotVisible, RoomNotTracked } from './errors.js'
import { ListQuery, StatusQuery, TypingContact, TypingConversation, type ListReply, type UserState } from './events.js'
import { tracksRoom, visibleTo, type OnlineList } from './online-lists.js'
import type { Presence } from './presence.js'
import type { Typing } from './typing.js'

export function typingHandlers (realtime: RealtimeApi, typing: Typing): void {
  const schema = typing.format === 'contact' ? TypingContact : TypingConversation
  realtime.namespace(typing.namespace)
    .handle('typing:start', schema, async (ctx, data) => { await typing.start(ctx, data) })
    .handle('typing:stop', schema, async (ctx, data) => { await typing.stop(ctx, data) })
    .onDisconnect(async (ctx) => { await typing.disconnected(ctx) })
}

export function queryHandlers (realtime: RealtimeApi, presence: Presence, list: OnlineList, maxListSize: number): void {
  realtime.namespace(list.namespace)
    .handle('presence:list', ListQuery, async (ctx, query): Promise<ListReply> => {
      assertVisible(list, ctx)
      const limit = Math.min(query?.limit ?? maxListSize, maxListSize)
      await presence.settled(ctx.id)
      const room = query?.room
      if (room === undefined) return await presence.online(list, ctx.user.tenantId, limit)
      if (!tracksRoom(list, room)) throw new RoomNotTracked(room, list.namespace)
      if (!ctx.isIn(room)) throw new NotInRoom(room)
      return await presence.inRoom(list, ctx.user.tenantId, room, limit)
    })
    .handle('presence:status', StatusQuery, async (ctx, { userIds }): Promise<{ users: UserState[] }> => {
      assertVisible(list, ctx)
      await presence.settled(ctx.id)
      return { users: await presence.status(list, ctx.user.tenantId, userIds) }
    })
}

function assertVisible (list: OnlineList, ctx: SocketContext): void {
  if (!visibleTo(list, ctx.user.roles)) throw new NotVisible(list.namespace, list.visibleTo.join(', '))
}
