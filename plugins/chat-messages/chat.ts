/** What the plugin's handlers and routes share: the plugin API, its namespace, options, store and membership. */
import type { PluginNamespace, RealtimeApi } from 'realtime-server'
import type { ChannelMembership } from './membership.js'
import type { MessageStore } from './message-store.js'
import type { ChatOptions } from './schema.js'

export interface Chat {
  readonly realtime: RealtimeApi
  readonly ns: PluginNamespace
  readonly options: ChatOptions
  readonly store: MessageStore
  readonly membership: ChannelMembership
}

/** The current time as an ISO string. */
export const now = (): string => new Date().toISOString()
