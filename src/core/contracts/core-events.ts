/** The events the core itself handles and emits on every namespace (token refresh and expiry), as a catalog for the documents. */
import { Type } from 'typebox'
import type { EventCatalog } from '../plugins/catalog.js'

/** `auth:refresh`, `auth:expired` and `rt:disconnect`, on every namespace. */
export const coreCatalog: EventCatalog = {
  client: {
    'auth:refresh': {
      payload: Type.Union([Type.Object({ token: Type.String({ minLength: 1 }) }), Type.String({ minLength: 1 })], { description: '`{ token }` or the token (a `Bearer ` prefix is accepted).' }),
      ack: Type.Object({ ok: Type.Literal(true), exp: Type.Optional(Type.Number({ description: 'The new token\'s `exp` (seconds).' })) }),
      errors: ['RT_ERR_AUTH_REFRESH'],
      description: 'A new token for the same user and tenant, applied to every namespace socket of the connection.'
    }
  },
  server: {
    'auth:expired': {
      payload: Type.Object({
        expiredAt: Type.Union([Type.String({ description: 'ISO time' }), Type.Number({ description: 'epoch ms (timeFormat epoch-ms)' })]),
        graceMs: Type.Integer({ description: 'The socket is disconnected this long after unless it sends `auth:refresh`.' })
      }),
      meta: false,
      description: 'The token expired; refresh within `graceMs`.'
    },
    'rt:disconnect': {
      payload: Type.Object({ reason: Type.Optional(Type.String({ description: 'The reason the backend gave, when it gave one.' })) }),
      meta: false,
      description: 'A backend disconnects this socket (the control routes, docs/control.md): the socket is disconnected right after (`io server disconnect`), and does not reconnect by itself.'
    }
  }
}
