/** What the plugin's socket handlers and routes share: the plugin API, its namespace, options, store and membership. */
import type { PluginNamespace, RealtimeApi } from 'realtime-server'
import type { ChannelMembership } from './membership.js'
import type { ChatMessagesOptions } from './schema.js'
import type { MessageStore } from './store/index.js'

export interface ChatContext {
  readonly realtime: RealtimeApi
  readonly ns: PluginNamespace
  readonly options: ChatMessagesOptions
  readonly store: MessageStore
  readonly membership: ChannelMembership
}

/** The current time as an ISO string. */
export const now = (): string => new Date().toISOString()
