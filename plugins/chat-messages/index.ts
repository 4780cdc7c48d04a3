/**
 * `chat-messages`: channels and the whole message lifecycle (chat channels) and conversation rooms with
 * backend-pushed message events (WhatsApp builder gateway). See README.md for the events, options, REST and errors.
 */
import { definePlugin } from 'realtime-server'
import { registerChannelHandlers } from './channel-handlers.js'
import type { Chat } from './chat.js'
import { registerConversationHandlers } from './conversation-handlers.js'
import { events } from './events.js'
import { ChannelMembership } from './membership.js'
import { createMemoryMessageStore } from './memory-message-store.js'
import { registerMessageHandlers } from './message-handlers.js'
import { registerReactionHandlers } from './reaction-handlers.js'
import { createRedisMessageStore } from './redis-message-store.js'
import { conversationTriggers, historyRoute } from './routes.js'
import { options } from './schema.js'

export { events } from './events.js'
export { options, type ChatOptions } from './schema.js'

export default definePlugin({
  name: 'chat-messages',
  options,
  events,
  setup (app, opts) {
    const { realtime } = app
    const storeOptions = { ...opts.messages }
    const store = realtime.redis === undefined
      ? createMemoryMessageStore(storeOptions)
      : createRedisMessageStore(realtime.redis, realtime.store.keyOf('store:'), storeOptions)
    app.addHook('onClose', async () => { await store.close() })

    const chat: Chat = {
      realtime,
      ns: realtime.namespace(opts.namespace),
      options: opts,
      store,
      membership: new ChannelMembership(realtime.store, realtime.accessPolicy(opts.channels.access), opts.channels.access)
    }

    if (opts.channels.enabled) {
      registerChannelHandlers(chat)
      registerMessageHandlers(chat)
      registerReactionHandlers(chat)
      historyRoute(app, chat)
    }
    if (opts.conversations.enabled) {
      registerConversationHandlers(chat, realtime.accessPolicy(opts.conversations.access))
      conversationTriggers(chat)
    }
  }
})
