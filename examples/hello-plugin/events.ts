/** The hello plugin's event catalog: what clients send and what the server emits, with their schemas. */
import { Type, type EventCatalog } from 'realtime-server'

export const Hello = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
export const HelloAck = Type.Object({ text: Type.String(), count: Type.Integer() })
export const Greeted = Type.Object({ name: Type.String(), text: Type.String(), count: Type.Integer() })
// The $id names the schema in the OpenAPI document's components (`HelloAnnounce` rather than `def-N`).
export const Announce = Type.Object({ text: Type.String({ minLength: 1 }) }, { $id: 'HelloAnnounce', additionalProperties: false, examples: [{ text: 'maintenance at noon' }] })
export const Announcement = Type.Object({ text: Type.String() })

export const events = {
  client: {
    hello: { payload: Hello, ack: HelloAck, errors: ['RT_HELLO_TOO_MANY'], description: 'Greets; the rest of the tenant gets `hello:greeted`.' }
  },
  server: {
    'hello:greeted': { payload: Greeted, description: 'Someone of the tenant was greeted (not sent to the greeter).' },
    'hello:announcement': { payload: Announcement, description: 'A backend announcement to the whole tenant.' }
  }
} satisfies EventCatalog
