/**
 * The Socket.IO handlers of the plugin, one file per event family: `channels.ts`, `messages.ts` and
 * `reactions.ts` (chat channels, `channels.enabled`), `conversations.ts` (the WhatsApp builder gateway,
 * `conversations.enabled`).
 */
import type { PluginApp } from 'realtime-server'
import type { ChatContext } from '../context.js'
import { registerChannelHandlers } from './channels.js'
import { registerConversationHandlers } from './conversations.js'
import { registerMessageHandlers } from './messages.js'
import { registerReactionHandlers } from './reactions.js'

export function registerSocketHandlers (app: PluginApp, chat: ChatContext): void {
  const { realtime } = app
  const { options } = chat
  if (options.channels.enabled) {
    registerChannelHandlers(chat)
    registerMessageHandlers(chat)
    registerReactionHandlers(chat)
  }
  if (options.conversations.enabled) registerConversationHandlers(chat, realtime.accessPolicy(options.conversations.access))
}
