/**
 * The message store on Redis (the server's shared connection), used whenever Redis is configured:
 * every node sees the same messages, and they survive restarts. Multi-key steps are Lua scripts.
 *
 * Keys, under `<redis.keyPrefix>:chat-messages:store:` and with every id percent-encoded:
 * - `<tenant>:ch:<channel>:seq`       counter giving each message its place (the history cursor)
 * - `<tenant>:ch:<channel>:ids`       sorted set: message id -> place
 * - `<tenant>:msg:<id>`               hash: data (JSON), status, updatedAt
 * - `<tenant>:msg:<id>:reactions`     hash: [userId, type] -> reaction (JSON)
 * - `<tenant>:msg:<id>:reads`         hash: userId -> read time
 * - `<tenant>:tmp:<user>:<tempId>`    'processing' or the message id, with a TTL
 */
import type { Redis } from 'ioredis'
import type { ChatMessage, ChatReaction, HistoryEntry, Status } from '../events.js'
import {
  byCreation, reactionField,
  type PageQuery, type MessageStore, type MessageStoreOptions, type NewMessage, type StoredPage, type TempIdClaim
} from './index.js'
import { advanceStatus, claimTempId, createMessage, releaseTempId, setOnceForMessage } from './scripts.js'

const e = encodeURIComponent

/** The immutable part of a message, kept as JSON; status and updatedAt are fields of their own. */
type MessageData = Omit<ChatMessage, 'deliveryStatus' | 'updatedAt'>

const assemble = (data: string, status: string, updatedAt: string): ChatMessage =>
  ({ ...JSON.parse(data) as MessageData, deliveryStatus: status as Status, updatedAt })

export function createRedisMessageStore (redis: Redis, prefix: string, options: MessageStoreOptions): MessageStore {
  const keys = {
    seq: (t: string, c: string) => `${prefix}${e(t)}:ch:${e(c)}:seq`,
    ids: (t: string, c: string) => `${prefix}${e(t)}:ch:${e(c)}:ids`,
    messages: (t: string) => `${prefix}${e(t)}:msg:`,
    message: (t: string, id: string) => `${prefix}${e(t)}:msg:${e(id)}`,
    temp: (t: string, u: string, tempId: string) => `${prefix}${e(t)}:tmp:${e(u)}:${e(tempId)}`
  }

  const get = async (tenantId: string, messageId: string): Promise<ChatMessage | undefined> => {
    const [data, status, updatedAt] = await redis.hmget(keys.message(tenantId, messageId), 'data', 'status', 'updatedAt')
    return typeof data !== 'string' || typeof status !== 'string' || typeof updatedAt !== 'string' ? undefined : assemble(data, status, updatedAt)
  }

  const setOnce = async (tenantId: string, messageId: string, hash: 'reactions' | 'reads', field: string, value: string): Promise<{ value: string, first: boolean } | undefined> => {
    const message = keys.message(tenantId, messageId)
    const res = await setOnceForMessage.run(redis, [message, `${message}:${hash}`], [field, value]) as [number, string] | null
    return res === null ? undefined : { value: res[1], first: res[0] === 1 }
  }

  return {
    async claimTempId (tenantId, userId, tempId): Promise<TempIdClaim> {
      const v = await claimTempId.run(redis, [keys.temp(tenantId, userId, tempId)], [options.processingTimeoutMs]) as string | null
      if (v === null) return { state: 'claimed' }
      return v === 'processing' ? { state: 'processing' } : { state: 'done', messageId: v }
    },

    async releaseTempId (tenantId, userId, tempId) {
      await releaseTempId.run(redis, [keys.temp(tenantId, userId, tempId)], [])
    },

    async create (tenantId, m: NewMessage, tempId) {
      const message: ChatMessage = { ...m, deliveryStatus: 'SENT', updatedAt: m.createdAt }
      const data: MessageData = { id: m.id, content: m.content, channelId: m.channelId, userId: m.userId, replyToId: m.replyToId, createdAt: m.createdAt, user: m.user }
      const k = [keys.seq(tenantId, m.channelId), keys.ids(tenantId, m.channelId), keys.message(tenantId, m.id)]
      if (tempId !== undefined) k.push(keys.temp(tenantId, m.userId, tempId))
      await createMessage.run(redis, k, [m.id, JSON.stringify(data), message.deliveryStatus, message.updatedAt, options.maxPerChannel, options.tempIdTtlMs, keys.messages(tenantId)])
      return message
    },

    get,

    async advanceStatus (tenantId, messageId, status, at) {
      const res = await advanceStatus.run(redis, [keys.message(tenantId, messageId)], [status, at]) as [string, string, string] | null
      return res === null ? undefined : assemble(...res)
    },

    async history (tenantId, channelId, { limit, before }: PageQuery): Promise<StoredPage> {
      const max = before === undefined ? '+inf' : `(${before}`
      const raw = await redis.zrevrangebyscore(keys.ids(tenantId, channelId), max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
      const ids: Array<{ id: string, seq: string }> = []
      for (let i = 0; i < raw.length; i += 2) ids.push({ id: raw[i]!, seq: raw[i + 1]! })
      const more = ids.length > limit
      const page = ids.slice(0, limit).reverse()
      const pipeline = redis.pipeline()
      for (const { id } of page) {
        const key = keys.message(tenantId, id)
        pipeline.hmget(key, 'data', 'status', 'updatedAt')
        pipeline.hvals(`${key}:reactions`)
      }
      const replies = page.length === 0 ? [] : (await pipeline.exec())!
      const messages: HistoryEntry[] = []
      for (let i = 0; i < page.length; i++) {
        const [err, fields] = replies[2 * i]! as [Error | null, Array<string | null>]
        const [rerr, reactions] = replies[2 * i + 1]! as [Error | null, string[]]
        if (err !== null) throw err
        if (rerr !== null) throw rerr
        const [data, status, updatedAt] = fields
        // A message trimmed between the two reads is left out.
        if (typeof data !== 'string' || typeof status !== 'string' || typeof updatedAt !== 'string') continue
        messages.push({ ...assemble(data, status, updatedAt), reactions: reactions.map((r) => JSON.parse(r) as ChatReaction).sort(byCreation) })
      }
      return { messages, nextCursor: more && page.length > 0 ? page[0]!.seq : null }
    },

    async addReaction (tenantId, reaction) {
      const res = await setOnce(tenantId, reaction.messageId, 'reactions', reactionField(reaction.userId, reaction.type), JSON.stringify(reaction))
      return res === undefined ? undefined : { reaction: JSON.parse(res.value) as ChatReaction, added: res.first }
    },

    async removeReaction (tenantId, messageId, userId, type) {
      return (await redis.hdel(`${keys.message(tenantId, messageId)}:reactions`, reactionField(userId, type))) === 1
    },

    async markRead (tenantId, messageId, userId, at) {
      const res = await setOnce(tenantId, messageId, 'reads', userId, at)
      return res === undefined ? undefined : { readAt: res.value, first: res.first }
    },

    async readers (tenantId, messageId) {
      return await redis.hgetall(`${keys.message(tenantId, messageId)}:reads`)
    },

    async close () {
      // The connection is the server's; it closes it.
    }
  }
}
