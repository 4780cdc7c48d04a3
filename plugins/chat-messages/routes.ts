/**
 * REST, under `/api/chat-messages`:
 * - `GET /channels/:channelId/messages` (user token or API key): a page of a channel's history;
 * - `POST /message-received`, `POST /message-status` (publisher): the WhatsApp builder gateway protocol's backend-pushed events
 *   into `conversation:{id}` rooms.
 */
import type { PluginApp } from 'realtime-server'
import type { Chat } from './chat.js'
import { HistoryParams, HistoryQuery, MessageReceivedBody, MessageStatusBody } from './events.js'
import { readHistory } from './history.js'
import { conversationRoom } from './rooms.js'

export function historyRoute (app: PluginApp, chat: Chat): void {
  const { realtime, membership } = chat
  app.get('/channels/:channelId/messages', {
    schema: { params: HistoryParams, querystring: HistoryQuery },
    onRequest: realtime.authenticate('user')
  }, async (request) => {
    const { channelId } = request.params
    const { tenantId: requested, limit, before } = request.query
    const tenantId = realtime.tenantOf(request, requested)
    const principal = request.principal!
    // A user reads only channels they are a member of; an API key (a backend) reads any channel of its tenant.
    if (principal.kind === 'user') await membership.check(principal.identity, channelId)
    return await readHistory(chat, tenantId, channelId, { limit, before })
  })
}

export function conversationTriggers (chat: Chat): void {
  const { realtime, ns } = chat

  realtime.trigger('/message-received', { body: MessageReceivedBody }, async (request) => {
    const { tenantId: requested, ...payload } = request.body
    const tenantId = realtime.tenantOf(request, requested)
    return await ns.publish({ tenantId, rooms: [conversationRoom(payload.conversationId)], event: 'message:received', payload, count: true })
  })

  realtime.trigger('/message-status', { body: MessageStatusBody }, async (request) => {
    const { tenantId: requested, ...payload } = request.body
    const tenantId = realtime.tenantOf(request, requested)
    return await ns.publish({ tenantId, rooms: [conversationRoom(payload.conversationId)], event: 'message:status', payload, count: true })
  })
}
