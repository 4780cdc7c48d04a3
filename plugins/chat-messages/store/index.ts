/**
 * Where messages live: messages with their delivery status, reactions, read state, and the tempId
 * idempotency records. Two implementations behave the same (one test suite runs against both):
 * `memory.ts`, the embedded default, and `redis.ts`, used whenever Redis
 * is configured (shared by every node, kept across restarts). Every key carries the tenant.
 */
import type { ChatMessage, ChatReaction, HistoryEntry, Profile, Status } from '../events.js'

/** Rank of each status: a status only replaces one of a lower rank. */
export const statusRank: Readonly<Record<Status, number>> = { SENT: 0, DELIVERED: 1, READ: 2 }

/** The outcome of claiming a tempId. */
export type TempIdClaim =
  | { state: 'claimed' }
  | { state: 'processing' }
  | { state: 'done', messageId: string }

/** A message about to be stored (its status starts at SENT). */
export interface NewMessage {
  id: string
  content: string
  channelId: string
  userId: string
  replyToId: string | null
  user: Profile
  createdAt: string
}

export interface PageQuery {
  limit: number
  /** Only messages older than this cursor. */
  before?: string
}

export interface StoredPage {
  messages: HistoryEntry[]
  nextCursor: string | null
}

export interface MessageStoreOptions {
  /** Messages kept per channel; older ones are deleted with their reactions and read state. */
  maxPerChannel: number
  /** How long a delivered tempId is remembered. */
  tempIdTtlMs: number
  /** How long an in-flight tempId is held when its sender never finishes. */
  processingTimeoutMs: number
}

export interface MessageStore {
  /**
   * Atomically claims a user's tempId: `claimed` the first time, `processing` while that send is in
   * flight, `done` with the message id once it was stored. Holds across nodes with Redis.
   */
  claimTempId (tenantId: string, userId: string, tempId: string): Promise<TempIdClaim>
  /** Drops an in-flight claim after a failed send (a `done` record is kept). */
  releaseTempId (tenantId: string, userId: string, tempId: string): Promise<void>
  /** Stores a message (status SENT) and, in the same atomic step, marks its tempId done. */
  create (tenantId: string, message: NewMessage, tempId?: string): Promise<ChatMessage>
  get (tenantId: string, messageId: string): Promise<ChatMessage | undefined>
  /** Moves the status forward (never back); the message as stored afterwards, undefined when missing. */
  advanceStatus (tenantId: string, messageId: string, status: Status, at: string): Promise<ChatMessage | undefined>
  /** The newest messages of a channel older than the cursor, oldest first, with their reactions. */
  history (tenantId: string, channelId: string, query: PageQuery): Promise<StoredPage>
  /** One reaction per user, type and message: `added` false returns the existing one; undefined when the message is missing. */
  addReaction (tenantId: string, reaction: ChatReaction): Promise<{ reaction: ChatReaction, added: boolean } | undefined>
  removeReaction (tenantId: string, messageId: string, userId: string, type: string): Promise<boolean>
  /** Records that a user read a message: `first` false returns the earlier time; undefined when the message is missing. */
  markRead (tenantId: string, messageId: string, userId: string, at: string): Promise<{ readAt: string, first: boolean } | undefined>
  /** Who read a message, and when. */
  readers (tenantId: string, messageId: string): Promise<Record<string, string>>
  close (): Promise<void>
}

/** Field of a reaction in its message's reaction map: one per user and type. */
export const reactionField = (userId: string, type: string): string => JSON.stringify([userId, type])

/** Reactions in the order they were added. */
export const byCreation = (a: ChatReaction, b: ChatReaction): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
