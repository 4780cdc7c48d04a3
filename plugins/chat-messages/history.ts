/** A page of a channel's history, for the socket (`channel:history`) and REST alike. */
import type { Static } from 'realtime-server'
import type { ChatContext } from './context.js'
import type { HistoryPage } from './events.js'

export async function readHistory (chat: ChatContext, tenantId: string, channelId: string, query: { limit?: number, before?: string }): Promise<Static<typeof HistoryPage>> {
  const { defaultLimit, maxLimit } = chat.options.history
  const limit = Math.min(query.limit ?? defaultLimit, maxLimit)
  const page = await chat.store.history(tenantId, channelId, query.before === undefined ? { limit } : { limit, before: query.before })
  return { channelId, ...page }
}
