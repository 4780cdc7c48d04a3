/**
 * The options of `chat-messages`, with their defaults. Validated at start-up: a bad value stops the
 * server with `plugins.chat-messages.options.<field>: <reason>`.
 */
import { AccessPolicyOptions, Type, type Static } from 'realtime-server'

/** The core's access policy (tenant | claim | roles | hook), open to the tenant by default. */
const Access = (description: string) => Type.Union(AccessPolicyOptions.anyOf, { default: { mode: 'tenant' }, description })

export const options = Type.Object({
  namespace: Type.String({
    default: '/',
    pattern: '^/',
    description: 'Socket.IO namespace of every event of the plugin (chat channels: `/`, the WhatsApp builder gateway protocol: `/messages`). Shared with other plugins.'
  }),
  channels: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'Channels, the message lifecycle, reactions, read receipts and history (chat channels).' }),
    access: Access('Who may join a channel: `tenant` (open channels of the tenant), `claim` (ids listed in a JWT claim), `roles`, or a backend `hook` asked with kind `channel`.')
  }, { additionalProperties: false, default: {} }),
  messages: Type.Object({
    maxContentLength: Type.Integer({ minimum: 1, default: 4000, description: 'Longest `content` of `message:send`, in characters (code points).' }),
    rateLimit: Type.Object({
      messages: Type.Integer({ minimum: 0, default: 10, description: 'Sends allowed per socket at once, refilled at this many per `windowMs`: the core\'s per-socket bucket of `message:send`, which `plugins.chat-messages.limits.events[\'message:send\']` overrides (0: unlimited).' }),
      windowMs: Type.Integer({ minimum: 1, default: 1000, description: 'The time in which `messages` sends refill, in ms (1000: messages per second).' })
    }, { additionalProperties: false, default: {} }),
    tempIdTtlMs: Type.Integer({ minimum: 1000, default: 86400000, description: 'How long a delivered `tempId` is remembered: a retry within this time gets the original message id.' }),
    processingTimeoutMs: Type.Integer({ minimum: 100, default: 30000, description: 'How long an in-flight `tempId` blocks duplicates if its node dies before finishing.' }),
    maxPerChannel: Type.Integer({ minimum: 1, default: 10000, description: 'Messages kept per channel; older ones are deleted with their reactions and read state.' })
  }, { additionalProperties: false, default: {} }),
  history: Type.Object({
    defaultLimit: Type.Integer({ minimum: 1, default: 50, description: 'Messages per page when the client gives no `limit`.' }),
    maxLimit: Type.Integer({ minimum: 1, default: 100, description: 'Largest page a client may ask for (larger limits are lowered to it).' })
  }, { additionalProperties: false, default: {} }),
  profile: Type.Object({
    nameClaim: Type.String({ minLength: 1, default: 'name', description: 'JWT claim (dot path) giving `user.name` in messages; the user id when missing.' }),
    imageUrlClaim: Type.String({ minLength: 1, default: 'imageUrl', description: 'JWT claim (dot path) giving `user.imageUrl`; null when missing.' })
  }, { additionalProperties: false, default: {} }),
  conversations: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'Conversation rooms and the backend-pushed `message:received` / `message:status` (WhatsApp builder gateway).' }),
    access: Access('Who may join a conversation room; a `hook` is asked with kind `conversation`.')
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false })

export type ChatMessagesOptions = Static<typeof options>
