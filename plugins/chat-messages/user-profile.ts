/** The `user { id, name, imageUrl }` of a message, from the sender's verified JWT claims. */
import { claimAt, type Identity } from 'realtime-server'
import type { Profile } from './events.js'
import type { ChatMessagesOptions } from './schema.js'

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined)

export function profileOf (user: Identity, options: ChatMessagesOptions['profile']): Profile {
  return {
    id: user.userId,
    name: text(claimAt(user.claims, options.nameClaim)) ?? user.userId,
    imageUrl: text(claimAt(user.claims, options.imageUrlClaim)) ?? null
  }
}
