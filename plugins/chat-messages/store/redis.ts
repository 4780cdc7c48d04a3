/**
 * The message store on Redis (the server's shared connection), used whenever Redis is configured:
 * every node sees the same messages, and they survive restarts. Every step is one Lua script (`scripts.ts`).
 *
 * Keys, under `<redis.keyPrefix>:chat-messages:store:` and with every id percent-encoded:
 * - `<tenant>:ch:<channel>:seq`       counter giving each message its place (the history cursor)
 * - `<tenant>:ch:<channel>:ids`       sorted set: message id -> place
 * - `<tenant>:msg:<id>`               hash: data (JSON), status, updatedAt
 * - `<tenant>:msg:<id>:reactions`     hash: [userId, type] -> reaction (JSON)
 * - `<tenant>:msg:<id>:reads`         hash: userId -> read time
 * - `<tenant>:tmp:<user>:<tempId>`    'processing' or the message id, with a TTL
 */
import type { RedisPrimitives } from 'realtime-server'
import type { ChatMessage, ChatReaction, HistoryEntry, Status } from '../events.js'
import {
  byCreation, reactionField, statusRank,
  type PageQuery, type MessageStore, type MessageStoreOptions, type NewMessage, type StoredPage, type TempIdClaim
} from './index.js'
import { defineScripts } from './scripts.js'

const e = encodeURIComponent

/** The immutable part of a message, kept as JSON; status and updatedAt are fields of their own. */
type MessageData = Omit<ChatMessage, 'deliveryStatus' | 'updatedAt'>

/** The message of its stored fields; undefined when one is missing (no such message). */
function assemble (data: string | null, status: string | null, updatedAt: string | null): ChatMessage | undefined {
  if (data === null || status === null || updatedAt === null) return undefined
  const parsed: MessageData = JSON.parse(data)
  return isStatus(status) ? { ...parsed, deliveryStatus: status, updatedAt } : undefined
}

const isStatus = (s: string): s is Status => Object.hasOwn(statusRank, s)

const reactionOf = (json: string): ChatReaction => JSON.parse(json)

/** The store's keys live under `redis.key('store:')`. */
export function createRedisMessageStore (redis: RedisPrimitives, options: MessageStoreOptions): MessageStore {
  const prefix = redis.key('store:')
  const scripts = defineScripts(redis)
  const keys = {
    seq: (t: string, c: string) => `${prefix}${e(t)}:ch:${e(c)}:seq`,
    ids: (t: string, c: string) => `${prefix}${e(t)}:ch:${e(c)}:ids`,
    // Trimming and history append the message id (a UUID) to this prefix inside Lua.
    messages: (t: string) => `${prefix}${e(t)}:msg:`,
    message: (t: string, id: string) => `${prefix}${e(t)}:msg:${e(id)}`,
    temp: (t: string, u: string, tempId: string) => `${prefix}${e(t)}:tmp:${e(u)}:${e(tempId)}`
  }

  const setOnce = async (tenantId: string, messageId: string, hash: 'reactions' | 'reads', field: string, value: string): Promise<{ value: string, first: boolean } | undefined> => {
    const message = keys.message(tenantId, messageId)
    const res = await scripts.setOnceForMessage([message, `${message}:${hash}`], field, value)
    return res === null ? undefined : { value: res[1], first: res[0] === 1 }
  }

  return {
    async claimTempId (tenantId, userId, tempId): Promise<TempIdClaim> {
      const v = await scripts.claimTempId([keys.temp(tenantId, userId, tempId)], options.processingTimeoutMs)
      if (v === null) return { state: 'claimed' }
      return v === 'processing' ? { state: 'processing' } : { state: 'done', messageId: v }
    },

    async releaseTempId (tenantId, userId, tempId) {
      await scripts.releaseTempId([keys.temp(tenantId, userId, tempId)])
    },

    async create (tenantId, m: NewMessage, tempId) {
      const message: ChatMessage = { ...m, deliveryStatus: 'SENT', updatedAt: m.createdAt }
      const data: MessageData = { id: m.id, content: m.content, channelId: m.channelId, userId: m.userId, replyToId: m.replyToId, createdAt: m.createdAt, user: m.user }
      const k = [keys.seq(tenantId, m.channelId), keys.ids(tenantId, m.channelId), keys.message(tenantId, m.id)]
      const args = [m.id, JSON.stringify(data), message.deliveryStatus, message.updatedAt, options.maxPerChannel, options.tempIdTtlMs, keys.messages(tenantId)]
      if (tempId === undefined) await scripts.createMessage(k, ...args)
      else await scripts.createMessageWithTempId([...k, keys.temp(tenantId, m.userId, tempId)], ...args)
      return message
    },

    async get (tenantId, messageId) {
      return assemble(...await scripts.getMessage([keys.message(tenantId, messageId)]))
    },

    async advanceStatus (tenantId, messageId, status, at) {
      const res = await scripts.advanceStatus([keys.message(tenantId, messageId)], status, at)
      return res === null ? undefined : assemble(...res)
    },

    async history (tenantId, channelId, { limit, before }: PageQuery): Promise<StoredPage> {
      const [more, page] = await scripts.history([keys.ids(tenantId, channelId)], before === undefined ? '+inf' : `(${before}`, limit, keys.messages(tenantId))
      const messages: HistoryEntry[] = []
      for (const [, data, status, updatedAt, reactions] of page) {
        const message = assemble(data, status, updatedAt)
        if (message !== undefined) messages.push({ ...message, reactions: reactions.map(reactionOf).sort(byCreation) })
      }
      return { messages, nextCursor: more === 1 ? page[0]?.[0] ?? null : null }
    },

    async addReaction (tenantId, reaction) {
      const res = await setOnce(tenantId, reaction.messageId, 'reactions', reactionField(reaction.userId, reaction.type), JSON.stringify(reaction))
      return res === undefined ? undefined : { reaction: reactionOf(res.value), added: res.first }
    },

    async removeReaction (tenantId, messageId, userId, type) {
      return (await scripts.deleteField([`${keys.message(tenantId, messageId)}:reactions`], reactionField(userId, type))) === 1
    },

    async markRead (tenantId, messageId, userId, at) {
      const res = await setOnce(tenantId, messageId, 'reads', userId, at)
      return res === undefined ? undefined : { readAt: res.value, first: res.first }
    },

    async readers (tenantId, messageId) {
      const flat = await scripts.readAll([`${keys.message(tenantId, messageId)}:reads`])
      const readers: Record<string, string> = {}
      for (let i = 0; i + 1 < flat.length; i += 2) readers[flat[i]!] = flat[i + 1]!
      return readers
    },

    async close () {
      // The connection is the server's; it closes it.
    }
  }
}
