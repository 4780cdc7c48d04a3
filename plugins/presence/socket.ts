/**
 * The socket events of presence: `typing:start` / `typing:stop` on each typing namespace, and the
 * `presence:list` / `presence:status` queries (answered in the ack) on each online list's namespace.
 */
import type { PluginApp, RealtimeApi, SocketContext } from 'realtime-server'
import { NotInRoom, NotVisible, RoomNotTracked } from './errors.js'
import { ListQuery, StatusQuery, TypingAnyFormat, TypingContact, TypingConversation, typingPayload, type ListReply, type StatusReply } from './events.js'
import { tracksRoom, visibleTo, type OnlineList } from './online-lists.js'
import type { Presence } from './presence.js'
import type { PresenceOptions } from './schema.js'
import type { Typing } from './typing.js'

export function registerSocketHandlers (app: PluginApp, presence: Presence, typing: readonly Typing[], options: PresenceOptions): void {
  const { realtime } = app
  for (const list of presence.lists.values()) queryHandlers(realtime, presence, list, options.maxListSize)
  const payload = typingPayload(options.typing)
  for (const t of typing) typingHandlers(realtime, t, payload)
}

function typingHandlers (realtime: RealtimeApi, typing: Typing, payload: ReturnType<typeof typingPayload>): void {
  // With both formats in use, the catalog's payload accepts either: each namespace checks its own.
  const own = payload === TypingAnyFormat ? realtime.compile(typing.format === 'contact' ? TypingContact : TypingConversation) : undefined
  realtime.namespace(typing.namespace)
    .handle('typing:start', payload, async (ctx, data) => {
      own?.assert(data)
      await typing.start(ctx, data)
    })
    .handle('typing:stop', payload, async (ctx, data) => {
      own?.assert(data)
      await typing.stop(ctx, data)
    })
    .onDisconnect(async (ctx) => { await typing.disconnected(ctx) })
}

function queryHandlers (realtime: RealtimeApi, presence: Presence, list: OnlineList, maxListSize: number): void {
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
    .handle('presence:status', StatusQuery, async (ctx, { userIds }): Promise<StatusReply> => {
      assertVisible(list, ctx)
      await presence.settled(ctx.id)
      return { users: await presence.status(list, ctx.user.tenantId, userIds) }
    })
}

function assertVisible (list: OnlineList, ctx: SocketContext): void {
  if (!visibleTo(list, ctx.user.roles)) throw new NotVisible(list.namespace, list.visibleTo.join(', '))
}
