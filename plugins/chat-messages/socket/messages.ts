/**
 * The message lifecycle (chat channels): `message:send` -> stored (SENT) -> `message:delivered` to the sender
 * and `message:created` to the channel (DELIVERED); `message:read` -> READ. Every failed send is
 * answered with `message:failed` (and in the ack), never dropped.
 */
import { randomUUID } from 'node:crypto'
import { clientError, ValidationFailed, type SocketContext, type Static } from 'realtime-server'
import { now, type ChatContext } from '../context.js'
import { AlreadyProcessing, catalogError, ContentTooLong, MessageNotFound, SendFailed, TempIdReused, TooManyMessages } from '../errors.js'
import { ReadMessage, SendMessage, type ChatMessage } from '../events.js'
import { channelRoom } from '../rooms.js'
import { profileOf } from '../user-profile.js'
import { enterRoom } from './channels.js'

/** The tempId of a payload, even an invalid one, so that the failure names it. */
const tempIdOf = (raw: unknown): string | null => {
  const v = raw !== null && typeof raw === 'object' && 'tempId' in raw ? raw.tempId : undefined
  return typeof v === 'string' ? v : null
}

/** `RT_CHAT_TEMPID_REUSED` naming the tempId. */
const reused = (tempId: string, why: string): Error => Object.assign(new TempIdReused(JSON.stringify(tempId), why), { field: 'tempId' })

/** The core's RT_ERR_RATE_LIMITED as chat's own RT_CHAT_RATE_LIMITED (the limit it names is the one in force). */
const rateLimited = (error: { code: string, limit?: { events: number, perMs: number } }): Error | undefined =>
  error.code === 'RT_ERR_RATE_LIMITED' && error.limit !== undefined ? new TooManyMessages(error.limit.events, error.limit.perMs) : undefined

/** Length in characters (code points), counted only when the UTF-16 length could exceed the limit. */
const tooLong = (text: string, max: number): boolean => text.length > max && [...text].length > max

export function registerMessageHandlers (chat: ChatContext): void {
  const { ns, options, store, membership, realtime } = chat
  const { maxContentLength, rateLimit } = options.messages
  // The core's per-socket bucket of `message:send`: `messages` at once, refilled at `messages` per `windowMs`
  // (the config's plugins.chat-messages.limits.events['message:send'] overrides it). Every send counts, invalid
  // ones too; a refusal comes through onInvalid, as RT_CHAT_RATE_LIMITED.
  const limit = { rate: rateLimit.messages * 1000 / rateLimit.windowMs, burst: Math.max(1, rateLimit.messages) }
  const storeSeconds = realtime.metrics.histogram('store_seconds', {
    help: 'Time to store a sent message (message:send, from the membership check to the stored message).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
  })
  const duplicates = realtime.metrics.counter('duplicates_total', { help: 'message:send retries (a tempId already stored) answered with the original message, nothing stored again.' })
  const inFlight = realtime.metrics.counter('in_flight_refusals_total', { help: 'message:send refused RT_CHAT_IN_FLIGHT: its tempId is still being processed (a retry racing the first send).' })

  const findMessage = async (tenantId: string, messageId: string, channelId?: string): Promise<ChatMessage> => {
    const message = await store.get(tenantId, messageId)
    if (message === undefined || (channelId !== undefined && message.channelId !== channelId)) throw new MessageNotFound(messageId)
    return message
  }

  const delivered = (messageId: string, tempId: string | null) => ({ messageId, tempId, status: 'DELIVERED' as const, processed: true as const })

  async function send (ctx: SocketContext, data: Static<typeof SendMessage>, tempId: string | null): Promise<object> {
    const { content, channelId, replyToId } = data
    if (content.trim() === '') throw Object.assign(new ValidationFailed('content: must not be blank'), { field: 'content' })
    if (tooLong(content, maxContentLength)) throw Object.assign(new ContentTooLong(maxContentLength), { field: 'content' })
    const { tenantId, userId } = ctx.user

    if (tempId !== null) {
      const claim = await store.claimTempId(tenantId, userId, tempId)
      if (claim.state === 'processing') {
        inFlight.inc()
        throw new AlreadyProcessing()
      }
      if (claim.state === 'done') {
        // A retry of a send that succeeded gets the original message, nothing stored or broadcast again. The
        // tempId alone does not make a retry: the same tempId for another message is refused rather than
        // answered with a message that is not the one sent, and a message no longer stored is never reported.
        const message = await store.get(tenantId, claim.messageId)
        if (message === undefined) throw reused(tempId, 'was used for a message that no longer exists (deleted beyond messages.maxPerChannel)')
        if (message.channelId !== channelId || message.content !== content || message.replyToId !== (replyToId ?? null)) {
          throw reused(tempId, `was already used for another message (${message.channelId === channelId ? 'other content' : 'in another channel'})`)
        }
        const payload = delivered(claim.messageId, tempId)
        duplicates.inc()
        ctx.emit('message:delivered', payload)
        return { ...payload, message, duplicate: true }
      }
    }

    let stored: ChatMessage
    const stopTimer = storeSeconds.startTimer()
    try {
      await membership.check(ctx.user, channelId)
      if (replyToId !== undefined) {
        await findMessage(tenantId, replyToId, channelId).catch((err: unknown) => {
          throw err instanceof MessageNotFound ? Object.assign(err, { field: 'replyToId' }) : err
        })
      }
      stored = await store.create(tenantId, {
        id: randomUUID(),
        content,
        channelId,
        userId,
        replyToId: replyToId ?? null,
        user: profileOf(ctx.user, options.profile),
        createdAt: now()
      }, tempId ?? undefined)
      stopTimer()
    } catch (err) {
      if (tempId !== null) await store.releaseTempId(tenantId, userId, tempId).catch((e: unknown) => { realtime.log.warn({ err: e }, 'cannot release a tempId') })
      throw err
    }

    // Stored: from here on the message exists, and a retry with its tempId gets its id.
    enterRoom(ctx, channelId)
    let message: ChatMessage = { ...stored, deliveryStatus: 'DELIVERED', updatedAt: now() }
    try {
      message = await store.advanceStatus(tenantId, stored.id, 'DELIVERED', message.updatedAt) ?? message
    } catch (err) {
      realtime.log.warn({ err, messageId: stored.id }, 'message stored but its status stays SENT')
    }
    const payload = delivered(message.id, tempId)
    ctx.emit('message:delivered', payload)
    await ctx.publish({ rooms: [channelRoom(channelId)], event: 'message:created', payload: { message, tempId, processed: true } })
    return { ...payload, message }
  }

  /** Answers a failed send: `message:failed` to the sender, and the same in the ack. */
  function failed (ctx: SocketContext, tempId: string | null, err: unknown): object {
    let error = catalogError(err)
    if (error === undefined) {
      realtime.log.error({ err, socketId: ctx.id }, 'message:send failed')
      error = clientError(new SendFailed())
    }
    const answer = { tempId, status: 'FAILED' as const, processed: true as const }
    ctx.emit('message:failed', { error: error.message, code: error.code, ...(error.field === undefined ? {} : { field: error.field }), ...answer, timestamp: now() })
    return { error, ...answer }
  }

  ns.handle('message:send', SendMessage, async (ctx, data) => {
    const tempId = data.tempId ?? null
    try {
      return await send(ctx, data, tempId)
    } catch (err) {
      return failed(ctx, tempId, err)
    }
  }, {
    // An invalid send, or one over the rate limit, is a failed send like any other.
    onInvalid: (ctx, raw, error) => failed(ctx, tempIdOf(raw), rateLimited(error) ?? error),
    limit
  })

  ns.handle('message:read', ReadMessage, async (ctx, { messageId, channelId }: Static<typeof ReadMessage>) => {
    const { tenantId, userId } = ctx.user
    const message = await findMessage(tenantId, messageId, channelId)
    await membership.check(ctx.user, message.channelId)
    // The author reading their own message changes nothing.
    if (message.userId === userId) return { messageId, userId, status: message.deliveryStatus, timestamp: now(), changed: false }
    const read = await store.markRead(tenantId, messageId, userId, now())
    if (read === undefined) throw new MessageNotFound(messageId)
    const receipt = { messageId, userId, status: 'READ' as const, timestamp: read.readAt }
    if (read.first) {
      await store.advanceStatus(tenantId, messageId, 'READ', read.readAt)
      await ctx.publish({ rooms: [channelRoom(message.channelId)], event: 'message:read', payload: receipt })
    }
    return { ...receipt, changed: read.first }
  })
}
