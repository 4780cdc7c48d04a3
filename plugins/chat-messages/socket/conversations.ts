/** Conversations (WhatsApp builder gateway): `conversation:join` / `conversation:leave` of the `conversation:{id}` rooms. */
import type { AccessPolicy } from 'realtime-server'
import type { ChatContext } from '../context.js'
import { ConversationRefused } from '../errors.js'
import { ConversationRef } from '../events.js'
import { conversationRoom } from '../rooms.js'

export function registerConversationHandlers (chat: ChatContext, policy: AccessPolicy): void {
  const { ns } = chat

  ns.handle('conversation:join', ConversationRef, async (ctx, { conversationId }) => {
    const decision = await policy.check(ctx.user, 'conversation', conversationId)
    if (!decision.allowed) throw new ConversationRefused(conversationId, decision.reason ?? 'refused by the access policy')
    ctx.join(conversationRoom(conversationId))
    // The WhatsApp builder gateway protocol answers with the `conversation:joined` event; the ack carries the same.
    const joined = decision.data === undefined ? { conversationId, success: true as const } : { conversationId, success: true as const, data: decision.data }
    ctx.emit('conversation:joined', joined)
    return joined
  })

  ns.handle('conversation:leave', ConversationRef, (ctx, { conversationId }) => {
    ctx.leave(conversationRoom(conversationId))
    return { conversationId, success: true as const }
  })
}
