/**
 * The rooms presence builds: the room a typing event goes to, from the typing entry's `room` template. (The
 * online lists only follow rooms other plugins join; their names come from those plugins.) The core scopes
 * every room to the socket's tenant.
 */
import { PresenceConfig } from './errors.js'
import type { TypingOptions } from './schema.js'

export type TypingFormat = TypingOptions['format']
/** A validated typing payload (`TypingConversation` or `TypingContact`). */
export type TypingPayload = Readonly<Record<string, string>>

/** The payload fields of each format, which a room template may name. */
const FIELDS: Record<TypingFormat, readonly string[]> = {
  conversation: ['conversationId'],
  contact: ['contactId', 'whatsappAccountId']
}

/** The room of each format when the entry names none. */
const DEFAULT_ROOM: Record<TypingFormat, string> = {
  conversation: 'conversation:{conversationId}',
  contact: 'contact:{contactId}'
}

/**
 * The room of a typing payload, from a template such as `conversation:{conversationId}` (the format's default
 * when undefined); a template naming a field the format's payloads lack fails at start-up.
 */
export function typingRoom (template: string | undefined, format: TypingFormat): (data: TypingPayload) => string {
  const fields = FIELDS[format]
  const room = template ?? DEFAULT_ROOM[format]
  for (const [, name = ''] of room.matchAll(/\{([^}]*)\}/g)) {
    if (!fields.includes(name)) throw new PresenceConfig(`typing room "${room}" names {${name}}, but ${format} payloads have ${fields.map((f) => `{${f}}`).join(', ')}`)
  }
  return (data) => room.replace(/\{([^}]*)\}/g, (_, name: string) => data[name] ?? '')
}
