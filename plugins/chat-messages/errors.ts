/** The error catalog of `chat-messages` (codes `RT_CHAT_*`), and how failures are shown to clients. */
import { clientError, defineError, isCatalogError } from 'realtime-server'

export const NotMember = defineError('RT_CHAT_NOT_MEMBER', 'Not a member of channel %s', 403,
  'Join the channel with `channel:join` first; the channels access policy (options.channels.access) must also allow the user.')
export const JoinRefused = defineError('RT_CHAT_JOIN_REFUSED', 'Cannot join channel %s: %s', 403,
  'The channels access policy (options.channels.access) refused: list the channel in the token claim, give the user a listed role, or allow it in the access hook.')
export const ConversationRefused = defineError('RT_CHAT_CONVERSATION_REFUSED', 'Cannot join conversation %s: %s', 403,
  'The conversations access policy (options.conversations.access) refused the user.')
export const MessageNotFound = defineError('RT_CHAT_MESSAGE_NOT_FOUND', 'Message %s not found', 404,
  'Use the id from `message:delivered` / `message:created`, in the same tenant (and channel, when one is named); very old messages are deleted beyond options.messages.maxPerChannel.')
export const AlreadyProcessing = defineError('RT_CHAT_IN_FLIGHT', 'Message already being processed', 409,
  'A send with this tempId is still in flight: wait for its `message:delivered` or `message:failed` (a retry after success returns the original message id).')
export const TempIdReused = defineError('RT_CHAT_TEMPID_REUSED', 'tempId %s %s', 409,
  'Give every new message a tempId of its own (unique per user for `messages.tempIdTtlMs`); only a retry of the same message (same channel, content and reply) may reuse it, and it gets the original message back.')
export const ContentTooLong = defineError('RT_CHAT_CONTENT_TOO_LONG', 'Message content is longer than %s characters', 400,
  'Shorten the message, or raise options.messages.maxContentLength.')
export const TooManyMessages = defineError('RT_CHAT_RATE_LIMITED', 'Too many messages: at most %s per %s ms', 429,
  'Slow down and retry with the same tempId; the limit is options.messages.rateLimit.')
export const SendFailed = defineError('RT_CHAT_SEND_FAILED', 'Message could not be saved; nothing was sent', 503,
  'The message store failed (the server log has the cause, e.g. Redis unreachable); retry with the same tempId.')

/** `{ code, message, field? }` of a catalog error; undefined for any other error (which must not reach clients). */
export function catalogError (err: unknown): { code: string, message: string, field?: string } | undefined {
  return isCatalogError(err) ? clientError(err) : undefined
}
