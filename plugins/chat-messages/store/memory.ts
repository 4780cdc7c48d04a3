/**
 * The embedded message store: everything in this process, lost on restart. Each call runs without
 * awaiting in between, so it is atomic like the Redis scripts. Callers get copies.
 */
import type { ChatMessage, ChatReaction, Status } from '../events.js'
import {
  byCreation, reactionField, statusRank,
  type PageQuery, type MessageStore, type MessageStoreOptions, type NewMessage, type StoredPage, type TempIdClaim
} from './index.js'

interface Entry {
  message: ChatMessage
  seq: number
  reactions: Map<string, ChatReaction>
  reads: Map<string, string>
}

interface Channel {
  seq: number
  /** Message ids with their sequence numbers, oldest first. */
  log: Array<{ seq: number, id: string }>
}

interface Tenant {
  messages: Map<string, Entry>
  channels: Map<string, Channel>
}

const PROCESSING = Symbol('processing')

interface TempRecord {
  value: typeof PROCESSING | string
  expiresAt: number
}

const SWEEP_MS = 60_000
const copy = <T>(v: T): T => structuredClone(v)

export function createMemoryMessageStore (options: MessageStoreOptions): MessageStore {
  const tenants = new Map<string, Tenant>()
  const temps = new Map<string, TempRecord>()
  const sweeper = setInterval(() => {
    const now = Date.now()
    for (const [k, r] of temps) if (r.expiresAt <= now) temps.delete(k)
  }, SWEEP_MS)
  sweeper.unref()

  const tenant = (id: string): Tenant => {
    let t = tenants.get(id)
    if (t === undefined) {
      t = { messages: new Map(), channels: new Map() }
      tenants.set(id, t)
    }
    return t
  }
  const entry = (tenantId: string, messageId: string): Entry | undefined => tenants.get(tenantId)?.messages.get(messageId)
  const tempKey = (tenantId: string, userId: string, tempId: string): string => JSON.stringify([tenantId, userId, tempId])
  const liveTemp = (key: string): TempRecord | undefined => {
    const r = temps.get(key)
    if (r !== undefined && r.expiresAt <= Date.now()) {
      temps.delete(key)
      return undefined
    }
    return r
  }

  return {
    async claimTempId (tenantId, userId, tempId): Promise<TempIdClaim> {
      const key = tempKey(tenantId, userId, tempId)
      const r = liveTemp(key)
      if (r === undefined) {
        temps.set(key, { value: PROCESSING, expiresAt: Date.now() + options.processingTimeoutMs })
        return { state: 'claimed' }
      }
      return r.value === PROCESSING ? { state: 'processing' } : { state: 'done', messageId: r.value }
    },

    async releaseTempId (tenantId, userId, tempId) {
      const key = tempKey(tenantId, userId, tempId)
      if (liveTemp(key)?.value === PROCESSING) temps.delete(key)
    },

    async create (tenantId, m: NewMessage, tempId) {
      const t = tenant(tenantId)
      let channel = t.channels.get(m.channelId)
      if (channel === undefined) {
        channel = { seq: 0, log: [] }
        t.channels.set(m.channelId, channel)
      }
      const seq = ++channel.seq
      const message: ChatMessage = { ...m, deliveryStatus: 'SENT', updatedAt: m.createdAt }
      t.messages.set(m.id, { message: copy(message), seq, reactions: new Map(), reads: new Map() })
      channel.log.push({ seq, id: m.id })
      while (channel.log.length > options.maxPerChannel) t.messages.delete(channel.log.shift()!.id)
      if (tempId !== undefined) temps.set(tempKey(tenantId, m.userId, tempId), { value: m.id, expiresAt: Date.now() + options.tempIdTtlMs })
      return message
    },

    async get (tenantId, messageId) {
      const e = entry(tenantId, messageId)
      return e === undefined ? undefined : copy(e.message)
    },

    async advanceStatus (tenantId, messageId, status: Status, at) {
      const e = entry(tenantId, messageId)
      if (e === undefined) return undefined
      if (statusRank[status] > statusRank[e.message.deliveryStatus]) {
        e.message.deliveryStatus = status
        e.message.updatedAt = at
      }
      return copy(e.message)
    },

    async history (tenantId, channelId, { limit, before }: PageQuery): Promise<StoredPage> {
      const t = tenants.get(tenantId)
      const log = t?.channels.get(channelId)?.log ?? []
      const bound = before === undefined ? Infinity : Number(before)
      let end = log.length
      while (end > 0 && log[end - 1]!.seq >= bound) end--
      const start = Math.max(0, end - limit)
      const page = log.slice(start, end)
      return {
        messages: page.map(({ id }) => {
          const e = t!.messages.get(id)!
          return { ...copy(e.message), reactions: [...e.reactions.values()].map(copy).sort(byCreation) }
        }),
        nextCursor: start > 0 ? String(page[0]!.seq) : null
      }
    },

    async addReaction (tenantId, reaction: ChatReaction) {
      const e = entry(tenantId, reaction.messageId)
      if (e === undefined) return undefined
      const field = reactionField(reaction.userId, reaction.type)
      const existing = e.reactions.get(field)
      if (existing !== undefined) return { reaction: copy(existing), added: false }
      e.reactions.set(field, copy(reaction))
      return { reaction: copy(reaction), added: true }
    },

    async removeReaction (tenantId, messageId, userId, type) {
      return entry(tenantId, messageId)?.reactions.delete(reactionField(userId, type)) ?? false
    },

    async markRead (tenantId, messageId, userId, at) {
      const e = entry(tenantId, messageId)
      if (e === undefined) return undefined
      const earlier = e.reads.get(userId)
      if (earlier !== undefined) return { readAt: earlier, first: false }
      e.reads.set(userId, at)
      return { readAt: at, first: true }
    },

    async readers (tenantId, messageId) {
      return Object.fromEntries(entry(tenantId, messageId)?.reads ?? [])
    },

    async close () {
      clearInterval(sweeper)
      tenants.clear()
      temps.clear()
    }
  }
}
