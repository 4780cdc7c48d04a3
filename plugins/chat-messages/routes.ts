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

const TenantField = { tenantId: Type.Optional(Type.String({ minLength: 1, description: 'Required with an API key not bound to a tenant.' })) }

const MessageReceivedBody = Type.Object({ ...TenantField, ...MessageReceived.properties }, { additionalProperties: false })
const MessageStatusBody = Type.Object({ ...TenantField, ...MessageStatus.properties }, { additionalProperties: false })

const HistoryParams = Type.Object({ channelId: Id('The channel.') })
const HistoryQuery = Type.Object({
  ...TenantField,
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  before: Type.Optional(Cursor)
}, { additionalProperties: false })

export function registerRoutes (app: PluginApp, chat: ChatContext): void {
  const { realtime, membership, ns, options } = chat

  if (options.channels.enabled) {
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

  if (options.conversations.enabled) {
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
}
