/** Reactions (chat channels): one per user, type and message; `reaction:added` / `reaction:removed` go to the message's channel. */
import { randomUUID } from 'node:crypto'
import { now, type ChatContext } from '../context.js'
import { MessageNotFound } from '../errors.js'
import { ReactionRequest } from '../events.js'
import { channelRoom } from '../rooms.js'

export function registerReactionHandlers (chat: ChatContext): void {
  const { ns, store, membership } = chat

  ns.handle('reaction:add', ReactionRequest, async (ctx, { messageId, type }) => {
    const { tenantId, userId } = ctx.user
    const message = await store.get(tenantId, messageId)
    if (message === undefined) throw new MessageNotFound(messageId)
    await membership.check(ctx.user, message.channelId)
    const res = await store.addReaction(tenantId, { id: randomUUID(), type, userId, messageId, createdAt: now() })
    if (res === undefined) throw new MessageNotFound(messageId)
    const payload = { messageId, reaction: res.reaction, processed: true as const }
    // Adding a reaction the user already has is answered with it, and not announced again.
    if (res.added) await ctx.publish({ rooms: [channelRoom(message.channelId)], event: 'reaction:added', payload })
    return { ...payload, added: res.added }
  })

  ns.handle('reaction:remove', ReactionRequest, async (ctx, { messageId, type }) => {
    const { tenantId, userId } = ctx.user
    const message = await store.get(tenantId, messageId)
    if (message === undefined) throw new MessageNotFound(messageId)
    await membership.check(ctx.user, message.channelId)
    const removed = await store.removeReaction(tenantId, messageId, userId, type)
    const payload = { messageId, userId, type, processed: true as const }
    if (removed) await ctx.publish({ rooms: [channelRoom(message.channelId)], event: 'reaction:removed', payload })
    return { ...payload, removed }
  })
}
