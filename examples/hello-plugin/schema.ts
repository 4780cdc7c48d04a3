/** The options of the hello plugin: what an operator sets under `plugins.hello.options`. */
import { Type, type Static } from 'realtime-server'

export const options = Type.Object({
  greeting: Type.String({ default: 'Hello', minLength: 1, description: 'Word put before the name.' }),
  namespace: Type.String({ default: '/', pattern: '^/', description: 'Namespace of the `hello` event.' }),
  maxGreetingsPerTenant: Type.Integer({ default: 0, minimum: 0, description: 'Greetings a tenant may send in all (0: no limit).' })
}, { additionalProperties: false })

export type HelloOptions = Static<typeof options>
