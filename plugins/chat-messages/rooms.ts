/** Room names of the plugin; the core scopes every room to the socket's tenant. */

/** Members of a channel (chat channels). */
export const channelRoom = (channelId: string): string => `channel:${channelId}`

/** Watchers of a conversation (WhatsApp builder gateway). */
export const conversationRoom = (conversationId: string): string => `conversation:${conversationId}`
