/**
 * Channels (chat channels): `connection:success` with the user's channels (whose rooms the socket joins),
 * `channel:join` / `channel:leave` announced to the channel, and `channel:history` pages.
 */
import type { SocketContext } from 'realtime-server'
import { now, type ChatContext } from '../context.js'
import { ChannelRef, HistoryRequest } from '../events.js'
import { readHistory } from '../history.js'
import { channelRoom } from '../rooms.js'

/** Puts the socket in the channel's room if it is not there yet (membership may come from another socket). */
export function enterRoom (ctx: SocketContext, channelId: string): void {
  const room = channelRoom(channelId)
  if (!ctx.isIn(room)) ctx.join(room)
}

export function registerChannelHandlers (chat: ChatContext): void {
  const { ns, membership, realtime } = chat

  ns.onConnection(async (ctx) => {
    let channels: string[]
    try {
      channels = await membership.channelsOf(ctx.user)
    } catch (err) {
      realtime.log.error({ err, socketId: ctx.id }, 'cannot load the channels of a connecting user')
      ctx.emit('connection:error', { error: 'Could not load your channels', reason: 'server_error', reconnectAttempt: 0 })
      return
    }
    if (channels.length > 0) ctx.join(channels.map(channelRoom))
    ctx.emit('connection:success', { userId: ctx.user.userId, channels })
  })

  ns.handle('channel:join', ChannelRef, async (ctx, { channelId }) => {
    await membership.join(ctx.user, channelId)
    enterRoom(ctx, channelId)
    // Membership is the user's: their other tabs, on any node, enter the room too.
    await ns.socketsJoin({ tenantId: ctx.user.tenantId, users: [ctx.user.userId] }, channelRoom(channelId))
    const joined = { userId: ctx.user.userId, channelId, timestamp: now() }
    await ctx.publish({ rooms: [channelRoom(channelId)], event: 'channel:user_joined', payload: joined })
    return joined
  })

  ns.handle('channel:leave', ChannelRef, async (ctx, { channelId }) => {
    const wasMember = await membership.leave(ctx.user, channelId)
    ctx.leave(channelRoom(channelId))
    await ns.socketsLeave({ tenantId: ctx.user.tenantId, users: [ctx.user.userId] }, channelRoom(channelId))
    const left = { userId: ctx.user.userId, channelId, timestamp: now() }
    if (wasMember) await ctx.publish({ rooms: [channelRoom(channelId)], event: 'channel:user_left', payload: left })
    return { ...left, left: wasMember }
  })

  ns.handle('channel:history', HistoryRequest, async (ctx, { channelId, limit, before }) => {
    await membership.check(ctx.user, channelId)
    return await readHistory(chat, ctx.user.tenantId, channelId, { limit, before })
  })
}
