// `auth:refresh` on Socket.IO: a new token for the same user and tenant, applied to every namespace socket of the connection.
import type { Authenticator } from './authenticator.js'
import type { ExpiryService } from './expiry.js'
import type { Identity } from './tokens.js'
import { AuthRefreshRefused } from '../../lib/errors.js'
import type { Ack, Dispatcher } from '../namespaces/dispatch.js'
import { CORE, type Listener, type NamespaceEntry, type NamespaceRegistry } from '../namespaces/registry.js'
import { roleRoom, userRoom } from '../rooms.js'
import type { RealtimeSocket } from '../socket-types.js'

const EVENT = 'auth:refresh'

export interface SocketRefreshOptions {
  auth: Authenticator
  registry: NamespaceRegistry
  dispatch: Dispatcher
  expiry: ExpiryService<RealtimeSocket>
}

/**
 * `auth:refresh` { token } (or the token string) on every namespace: checked by the authenticator, then
 * applied to the socket and to its sibling namespace sockets of the same connection; answers
 * `{ ok: true, exp }` or the refusal. One listener shared by every socket.
 */
export class SocketRefresh {
  readonly #o: SocketRefreshOptions
  readonly #listener: Listener

  constructor (options: SocketRefreshOptions) {
    this.#o = options
    const refresh = this
    const { auth, dispatch } = options
    this.#listener = function onRefresh (this: RealtimeSocket, ...args: unknown[]): void {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() as Ack : undefined
      auth.refresh(this.data.user, args[0]).then((identity) => {
        // The check may have waited (a JWKS fetch): a socket gone meanwhile gets no expiry and no rooms.
        if (!this.connected) {
          dispatch.fail(this, CORE, EVENT, ack, new AuthRefreshRefused('the socket disconnected'))
          return
        }
        refresh.#renew(this, identity)
        ack?.({ ok: true, exp: identity.exp ?? null })
      }, (err: unknown) => { dispatch.fail(this, CORE, EVENT, ack, err) })
    }
  }

  /** Handles `auth:refresh` on a namespace (as the core's event: no plugin can take the name). */
  attach (entry: NamespaceEntry): void {
    this.#o.registry.handle(CORE, entry.nsp.name, EVENT, this.#listener)
  }

  /**
   * A refresh renews every namespace socket of the connection (one Socket.IO Manager) that speaks for the same
   * user and tenant, so one `auth:refresh` keeps all of them. They are found through the user room they
   * joined at connection, on the few namespaces there are: nothing is kept per connection for it.
   */
  #renew (socket: RealtimeSocket, identity: Identity): void {
    this.#apply(socket, identity)
    const room = userRoom(identity.tenantId, identity.userId)
    for (const { nsp } of this.#o.registry.entries()) {
      if (nsp === socket.nsp) continue
      for (const id of nsp.adapter.rooms.get(room) ?? []) {
        const sibling = nsp.sockets.get(id)
        if (sibling?.client === socket.client && sibling.connected) this.#apply(sibling, identity)
      }
    }
  }

  /** The socket now speaks with `identity`: its role rooms follow the roles, its expiry the new `exp`; then its namespace's identity hooks run. */
  #apply (socket: RealtimeSocket, identity: Identity): void {
    const before = socket.data.user
    socket.data.user = identity
    if (identity.roles.join() !== before.roles.join()) {
      for (const r of before.roles) void socket.leave(roleRoom(before.tenantId, r))
      void socket.join(identity.roles.map((r) => roleRoom(identity.tenantId, r)))
    }
    this.#o.expiry.arm(socket, identity.exp)
    this.#o.dispatch.identityChanged(socket, before)
  }
}
