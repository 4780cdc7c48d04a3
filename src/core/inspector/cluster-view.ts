// What the inspector asks every node: its identity and counts, and one tenant's sockets on it (with their rooms).
import { hostname } from 'node:os'
import type { ClusterLink } from '../patches/cluster-link.js'
import type { NamespaceRegistry } from '../namespaces/registry.js'
import { tenantRoom } from '../rooms.js'
import type { RealtimeServer, RealtimeSocket } from '../socket-types.js'
import type { Tail } from './tail.js'

const ASK = 'rt:inspector'
/** Sockets one node lists for one question: the page shows a tenant's sockets, searched, not a whole cluster's. */
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

export type Question =
  | { kind: 'node' }
  | { kind: 'sockets', tenantId: string, namespace?: string, search?: string }

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
  tail: Tail
  /** How long other nodes have to answer. */
  timeoutMs: number
}

export class ClusterView {
  readonly #o: ClusterViewOptions
  readonly #started = new Date()

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

  /** This node's answer to a question. */
  answer (q: Question): NodeInfo | SocketInfo[] {
    return q.kind === 'node' ? this.#node() : this.#sockets(q)
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
      tail: { watchers: this.#o.tail.watchers, hooked: this.#o.tail.hooked }
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
