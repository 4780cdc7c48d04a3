/**
 * REST, under `/api/chat-messages`:
 * - `GET /channels/:channelId/messages` (user token or API key, `channels.enabled`): a page of a channel's history;
 * - `POST /message-received`, `POST /message-status` (publisher, `conversations.enabled`): the WhatsApp builder
 *   gateway protocol's backend-pushed events into `conversation:{id}` rooms.
 */
import { Type, type PluginApp } from 'realtime-server'
import type { ChatContext } from './context.js'
import { Cursor, Id, MessageReceived, MessageStatus } from './events.js'
import { readHistory } from './history.js'
import { conversationRoom } from './rooms.js'

const HistoryParams = Type.Object({ channelId: Id('The channel.') })
const HistoryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  before: Type.Optional(Cursor)
}, { additionalProperties: false })

export function registerRoutes (app: PluginApp, chat: ChatContext): void {
  const { realtime } = app
  const { membership, ns, options } = chat

  if (options.channels.enabled) {
    realtime.trigger('/channels/:channelId/messages', { method: 'GET', params: HistoryParams, querystring: HistoryQuery, auth: 'user', tenant: true }, async (request) => {
      const { channelId } = request.params
      const { limit, before } = request.query
      const { principal, tenantId } = request
      // A user reads only channels they are a member of; an API key (a backend) reads any channel of its tenant.
      if (principal.kind === 'user') await membership.check(principal.identity, channelId)
      return await readHistory(chat, tenantId, channelId, { limit, before })
    })
  }

  if (options.conversations.enabled) {
    // The body is the event's payload (the core took out the `tenantId` an unbound API key adds to it).
    realtime.trigger('/message-received', { body: MessageReceived, tenant: true }, async (request) =>
      await ns.publish({ tenantId: request.tenantId, rooms: [conversationRoom(request.body.conversationId)], event: 'message:received', payload: request.body, count: true }))

    realtime.trigger('/message-status', { body: MessageStatus, tenant: true }, async (request) => {
      const { conversationId, messageId, status } = request.body
      return await ns.publish({ tenantId: request.tenantId, rooms: [conversationRoom(conversationId)], event: 'message:status', payload: { conversationId, messageId, status }, count: true })
    })
  }
}
