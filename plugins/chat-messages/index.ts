/**
 * `chat-messages`: channels and the whole message lifecycle (chat channels) and conversation rooms with
 * backend-pushed message events (WhatsApp builder gateway). See README.md for the events, options, REST and errors.
 */
import { definePlugin } from 'realtime-server'
import type { ChatContext } from './context.js'
import { events } from './events.js'
import { ChannelMembership } from './membership.js'
import { registerRoutes } from './routes.js'
import { options } from './schema.js'
import { registerSocketHandlers } from './socket/index.js'
import { createMemoryMessageStore } from './store/memory.js'
import { createRedisMessageStore } from './store/redis.js'

export { events } from './events.js'
export { options, type ChatMessagesOptions } from './schema.js'

export default definePlugin({
  name: 'chat-messages',
  options,
  events,
  setup (app, opts) {
    const { realtime } = app
    const storeOptions = { ...opts.messages }
    const store = realtime.redis === undefined
      ? createMemoryMessageStore(storeOptions)
      : createRedisMessageStore(realtime.redis, storeOptions)
    app.addHook('onClose', async () => { await store.close() })

    const chat: ChatContext = {
      realtime,
      ns: realtime.namespace(opts.namespace),
      options: opts,
      store,
      membership: new ChannelMembership(realtime.store, realtime.accessPolicy(opts.channels.access), opts.channels.access)
    }
    registerSocketHandlers(app, chat)
    registerRoutes(app, chat)
  }
})
