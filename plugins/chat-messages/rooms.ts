/** Room names of the plugin; the core scopes every room to the socket's tenant. */

/** Members of a channel (seed 004). */
export const channelRoom = (channelId: string): string => `channel:${channelId}`

/** Watchers of a conversation (seed 003). */
export const conversationRoom = (conversationId: string): string => `conversation:${conversationId}`
