// What one node asks every node (the inspector, the control routes): its identity and counts, a tenant's or a user's sockets on it (with their rooms), one socket.
import { hostname } from 'node:os'
import type { ClusterLink } from '../patches/cluster-link.js'
import type { NamespaceRegistry } from '../namespaces/registry.js'
import { tenantRoom, userRoom } from '../rooms.js'
import type { RealtimeServer, RealtimeSocket } from '../socket-types.js'

// The name nodes listened on when only the inspector asked: kept, so nodes of both versions answer each other.
const ASK = 'rt:inspector'
/** Sockets one node lists for one question: the inspector shows a tenant's sockets, searched, not a whole cluster's. */
export const SOCKETS_MAX = 500

export interface NodeInfo {
  nodeId: string
  hostname: string
  pid: number
  startedAt: string
  uptimeS: number
  node: string
  rssBytes: number
  heapUsedBytes: number
  /** Sockets per namespace, and per tenant within it. */
  namespaces: Record<string, { sockets: number, tenants: Record<string, number> }>
  tail: { watchers: number, hooked: boolean }
}

export interface SocketInfo {
  id: string
  node: string
  namespace: string
  userId: string
  tenantId: string
  roles: readonly string[]
  /** The socket's rooms within its tenant, as plugins name them (`campaign:42`), `user:<id>` and `role:<name>`. */
  rooms: string[]
  transport: string
  connectedAt: string
}

/**
 * What a node is asked. `sockets`: a tenant's sockets (searched); `user`: one user's sockets; `socket`: the socket of
 * that id if it belongs to the tenant. Each answer lists at most SOCKETS_MAX sockets. A node that does not know a
 * kind (an older version) answers nothing for it; askers still check what they get (see src/core/control).
 */
export type Question =
  | { kind: 'node' }
  | { kind: 'sockets', tenantId: string, namespace?: string, search?: string }
  | { kind: 'user', tenantId: string, userId: string, namespace?: string }
  | { kind: 'socket', tenantId: string, socketId: string }

/** What the live tail of this node's inspector reports (nothing watches without the inspector). */
export interface TailState {
  readonly watchers: number
  readonly hooked: boolean
}

type Ack = (answer: unknown) => void

const decode = (s: string): string => { try { return decodeURIComponent(s) } catch { return s } }

/** A room of a tenant as the page shows it; undefined for the tenant room itself and other tenants' rooms. */
export function roomLabel (room: string, prefix: string): string | undefined {
  if (!room.startsWith(prefix + ':')) return undefined
  const rest = room.slice(prefix.length + 1)
  if (rest.startsWith('#')) return rest.slice(1)
  if (rest.startsWith('u:')) return `user:${decode(rest.slice(2))}`
  if (rest.startsWith('r:')) return `role:${decode(rest.slice(2))}`
  return rest
}

export interface ClusterViewOptions {
  io: RealtimeServer
  registry: NamespaceRegistry
  link: ClusterLink | undefined
  nodeId: string
  /** How long other nodes have to answer. */
  timeoutMs: number
}

/**
 * Questions to every node of the cluster, through the adapter's server-side emit with acks; one per core (`core.clusterView`),
 * created whether or not the inspector is on, since the control routes ask it too.
 */
export class ClusterView {
  readonly #o: ClusterViewOptions
  readonly #started = new Date()
  #tail: TailState = { watchers: 0, hooked: false }

  constructor (options: ClusterViewOptions) {
    this.#o = options
    options.io.of('/').on(ASK as any, (question: Question, ack: Ack) => {
      try {
        ack(this.answer(question))
      } catch {
        ack(null)
      }
    })
  }

  /** Reports the inspector's live tail in this node's `node` answers. */
  observeTail (tail: TailState): void {
    this.#tail = tail
  }

  /** This node's answer to a question. */
  answer (q: Question): NodeInfo | SocketInfo[] {
    switch (q.kind) {
      case 'node': return this.#node()
      case 'sockets': return this.#sockets(q)
      case 'user': return this.#user(q)
      case 'socket': return this.#socket(q)
      default: throw new Error(`unknown question ${String((q as { kind?: unknown }).kind)}`)
    }
  }

  /** Every node's answer (this one first); `partial` when some node did not answer in time. */
  async ask<T> (q: Question): Promise<{ answers: T[], partial: boolean }> {
    const mine = this.answer(q) as T
    const link = this.#o.link
    if (link === undefined) return { answers: [mine], partial: false }
    return await new Promise((resolve) => {
      const timer = setTimeout(() => { resolve({ answers: [mine], partial: true }) }, this.#o.timeoutMs)
      link.serverSideEmit(this.#o.io.of('/'), [ASK, q, (err: Error | null, responses: T[]) => {
        clearTimeout(timer)
        const others = (responses ?? []).filter((r) => r !== null && r !== undefined)
        resolve({ answers: [mine, ...others], partial: err !== null && err !== undefined })
      }], () => {
        clearTimeout(timer)
        resolve({ answers: [mine], partial: true })
      })
    })
  }

  #node (): NodeInfo {
    const namespaces: NodeInfo['namespaces'] = {}
    for (const entry of this.#o.registry.entries()) {
      const tenants: Record<string, number> = {}
      for (const socket of entry.nsp.sockets.values()) {
        const t = socket.data.user?.tenantId
        if (t !== undefined) tenants[t] = (tenants[t] ?? 0) + 1
      }
      namespaces[entry.nsp.name] = { sockets: entry.nsp.sockets.size, tenants }
    }
    const mem = process.memoryUsage()
    return {
      nodeId: this.#o.nodeId,
      hostname: hostname(),
      pid: process.pid,
      startedAt: this.#started.toISOString(),
      uptimeS: Math.round(process.uptime()),
      node: process.version,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      namespaces,
      tail: { watchers: this.#tail.watchers, hooked: this.#tail.hooked }
    }
  }

  #sockets (q: Extract<Question, { kind: 'sockets' }>): SocketInfo[] {
    const out: SocketInfo[] = []
    const room = tenantRoom(q.tenantId)
    const search = q.search === undefined || q.search === '' ? undefined : q.search.toLowerCase()
    for (const entry of this.#o.registry.entries()) {
      const nsp = entry.nsp
      if (q.namespace !== undefined && nsp.name !== q.namespace) continue
      const ids = nsp.adapter.rooms.get(room)
      if (ids === undefined) continue
      for (const id of ids) {
        const socket = nsp.sockets.get(id)
        if (socket === undefined || socket.data.user?.tenantId !== q.tenantId) continue
        const info = this.#socketInfo(socket, room)
        if (search !== undefined && !matchesSearch(info, search)) continue
        out.push(info)
        if (out.length >= SOCKETS_MAX) return out
      }
    }
    return out
  }

  #user (q: Extract<Question, { kind: 'user' }>): SocketInfo[] {
    const out: SocketInfo[] = []
    const room = userRoom(q.tenantId, q.userId)
    const prefix = tenantRoom(q.tenantId)
    for (const entry of this.#o.registry.entries()) {
      const nsp = entry.nsp
      if (q.namespace !== undefined && nsp.name !== q.namespace) continue
      for (const id of nsp.adapter.rooms.get(room) ?? []) {
        const socket = nsp.sockets.get(id)
        const user = socket?.data.user
        if (socket === undefined || user?.tenantId !== q.tenantId || user.userId !== q.userId) continue
        out.push(this.#socketInfo(socket, prefix))
        if (out.length >= SOCKETS_MAX) return out
      }
    }
    return out
  }

  #socket (q: Extract<Question, { kind: 'socket' }>): SocketInfo[] {
    for (const entry of this.#o.registry.entries()) {
      const socket = entry.nsp.sockets.get(q.socketId)
      if (socket !== undefined && socket.data.user?.tenantId === q.tenantId) return [this.#socketInfo(socket, tenantRoom(q.tenantId))]
    }
    return []
  }

  #socketInfo (socket: RealtimeSocket, prefix: string): SocketInfo {
    const rooms: string[] = []
    for (const r of socket.rooms) {
      const label = roomLabel(r, prefix)
      if (label !== undefined) rooms.push(label)
    }
    const user = socket.data.user
    return {
      id: socket.id,
      node: this.#o.nodeId,
      namespace: socket.nsp.name,
      userId: user.userId,
      tenantId: user.tenantId,
      roles: user.roles,
      rooms,
      transport: socket.conn.transport.name,
      connectedAt: new Date(socket.handshake.issued).toISOString()
    }
  }
}

function matchesSearch (s: SocketInfo, search: string): boolean {
  if (s.id.toLowerCase().includes(search) || s.userId.toLowerCase().includes(search)) return true
  for (const r of s.rooms) if (r.toLowerCase().includes(search)) return true
  return false
}
