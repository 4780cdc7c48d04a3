/**
 * What a backend does to connected clients (the control routes): list a user's sockets, disconnect a user or one
 * socket, move a user's sockets into or out of a declared room. Always within one tenant, on every node.
 *
 * Reading goes through the cluster view (every node answers for its own sockets; a node that does not answer in
 * time makes the answer `partial`). Acting goes through the adapter, as publishing does: the `rt:disconnect` event
 * and the disconnection are two broadcasts to the same room, which every node receives in the order they were
 * sent, so a client always gets the reason before its `disconnect`.
 */
import { NotFound, RoomUndeclared } from '../../lib/errors.js'
import type { SocketInfo } from '../cluster/cluster-view.js'
import { contractsOf } from '../contracts/registry.js'
import type { Core } from '../core.js'
import type { NamespaceEntry } from '../namespaces/registry.js'
import { userRoom } from '../rooms.js'
import { RoomTemplates, type RoomTemplate } from './room-templates.js'

/** The server event a socket gets right before the control routes disconnect it (declared in core-events.ts). */
export const DISCONNECT_EVENT = 'rt:disconnect'

export interface UserSockets {
  sockets: SocketInfo[]
  partial: boolean
}

export class Control {
  readonly #core: Core
  #templates: RoomTemplates | undefined

  constructor (core: Core) {
    this.#core = core
  }

  /** A user's sockets on every node (of one namespace, or all), sorted by namespace and connection time. */
  async userSockets (tenantId: string, userId: string, namespace?: string): Promise<UserSockets> {
    if (namespace !== undefined) this.#entry(namespace)
    const { answers, partial } = await this.#core.clusterView.ask<SocketInfo[]>({ kind: 'user', tenantId, userId, ...(namespace === undefined ? {} : { namespace }) })
    // Checked again here: a node of an older version answers a question kind it does not know with other sockets.
    const sockets = answers.flat().filter((s) => s.tenantId === tenantId && s.userId === userId && (namespace === undefined || s.namespace === namespace))
    sockets.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.connectedAt.localeCompare(b.connectedAt) || a.id.localeCompare(b.id))
    return { sockets, partial }
  }

  /**
   * Disconnects every socket of a user (of one namespace, or all) on every node, each told `rt:disconnect` { reason }
   * first. Answers the sockets found before (the count of the nodes that answered). Refused (RT_ERR_NOT_READY) while
   * Redis is unreachable: the other nodes would not get it.
   */
  async disconnectUser (tenantId: string, userId: string, namespace: string | undefined, reason: string | undefined): Promise<{ disconnected: number, partial: boolean }> {
    this.#core.bus.assertUp()
    const { sockets, partial } = await this.userSockets(tenantId, userId, namespace)
    const room = userRoom(tenantId, userId)
    const payload = reason === undefined ? {} : { reason }
    for (const { nsp } of namespace === undefined ? this.#core.registry.entries() : [this.#entry(namespace)]) {
      nsp.to(room).emit(DISCONNECT_EVENT as any, payload)
      nsp.in(room).disconnectSockets(false)
    }
    return { disconnected: sockets.length, partial }
  }

  /** Disconnects one socket of the tenant, wherever it is connected; another tenant's socket is not found (RT_ERR_NOT_FOUND). */
  async disconnectSocket (tenantId: string, socketId: string, reason: string | undefined): Promise<{ namespace: string, node: string }> {
    this.#core.bus.assertUp()
    const { answers, partial } = await this.#core.clusterView.ask<SocketInfo[]>({ kind: 'socket', tenantId, socketId })
    const found = answers.flat().find((s) => s.id === socketId && s.tenantId === tenantId)
    if (found === undefined) throw new NotFound(`no connected socket ${socketId} in this tenant${partial ? ' (some node did not answer in time)' : ''}`)
    const nsp = this.#entry(found.namespace).nsp
    nsp.to(socketId).emit(DISCONNECT_EVENT as any, reason === undefined ? {} : { reason })
    nsp.in(socketId).disconnectSockets(false)
    return { namespace: found.namespace, node: found.node }
  }

  /** The declared template `room` matches on `namespace`; RT_ERR_ROOM_UNDECLARED (field `room`) when none does. */
  template (namespace: string, room: string): RoomTemplate {
    this.#entry(namespace)
    // The plugins' catalogs, read once they all set up (the first request comes after).
    const templates = this.#templates ??= new RoomTemplates(contractsOf(this.#core))
    const match = templates.match(namespace, room)
    if (match !== undefined) return match
    const here = templates.of(namespace).map((t) => t.template)
    const elsewhere = templates.namespacesOf(room)
    const err = new RoomUndeclared(`"${room}" matches no room template of namespace ${namespace} (${here.length === 0 ? 'none declared' : `declared: ${here.join(', ')}`})` +
      (elsewhere.length === 0 ? '' : `; it would be accepted on ${elsewhere.join(', ')}`))
    err.field = 'room'
    throw err
  }

  /** Adds (or removes) every socket of a user on `namespace`, on every node, to a declared room of the tenant. */
  async moveUser (action: 'join' | 'leave', tenantId: string, userId: string, namespace: string, room: string): Promise<{ template: RoomTemplate, sockets: number, partial: boolean }> {
    const template = this.template(namespace, room)
    this.#core.bus.assertUp()
    const { sockets, partial } = await this.userSockets(tenantId, userId, namespace)
    const target = { tenantId, users: [userId] }
    if (action === 'join') await this.#core.targetRooms.socketsJoin(namespace, target, room)
    else await this.#core.targetRooms.socketsLeave(namespace, target, room)
    return { template, sockets: sockets.length, partial }
  }

  /** A namespace some plugin uses; RT_ERR_NOT_FOUND otherwise. */
  #entry (namespace: string): NamespaceEntry {
    const entry = this.#core.registry.get(namespace)
    if (entry === undefined || entry.users.size === 0) throw new NotFound(`namespace ${namespace} (no plugin uses it)`)
    return entry
  }
}
