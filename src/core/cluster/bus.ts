// The cluster bus: messages between nodes and cross-node questions (counts, stats), through the Socket.IO adapter; a node that does not answer in time makes the answer partial.
import type { FastifyBaseLogger } from 'fastify'
import { NotReady } from '../../lib/errors.js'
import type { ClusterLink } from '../patches/cluster-link.js'
import { countLocal, type RoomSelection } from '../publish.js'
import { clusterLinkOf } from '../socketio.js'
import type { NamespaceEntry, NamespaceRegistry } from '../namespaces/registry.js'
import type { RealtimeNamespace, RealtimeServer } from '../socket-types.js'

type Ack = (response: unknown) => void

export interface NamespaceStats {
  sockets: number
  rooms: number
  tenants: Record<string, number>
}

const COUNT_EVENT = 'rt:count'
const STATS_EVENT = 'rt:stats'
const CLUSTER_EVENT = 'rt:cluster'

export interface ClusterBusOptions {
  io: RealtimeServer
  registry: NamespaceRegistry
  log: FastifyBaseLogger
  /** How long other nodes have to answer a count or stats question. */
  countTimeoutMs: number
  /** Called when a question got a partial answer (a node did not answer in time, or Redis could not be asked). */
  onPartial?: (question: 'count' | 'stats') => void
}

/**
 * What the nodes say to each other. Without Redis there is no other node: messages are local calls and
 * questions are answered by this node alone.
 */
export class ClusterBus {
  /** The adapter's Redis link; undefined without Redis. */
  readonly link: ClusterLink | undefined
  readonly #o: ClusterBusOptions
  readonly #root: RealtimeNamespace
  readonly #handlers = new Map<string, Array<(data: unknown) => void>>()

  constructor (options: ClusterBusOptions) {
    this.#o = options
    this.link = clusterLinkOf(options.io)
    this.#root = options.io.of('/')
    this.#root.on(CLUSTER_EVENT as any, (name: string, data: unknown) => { this.#deliver(name, data) })
  }

  /** Throws NotReady while Redis is unreachable: what is sent now would not reach the other nodes. */
  assertUp (): void {
    if (this.link !== undefined && !this.link.up) throw new NotReady('Redis is unreachable')
  }

  /** Answers the other nodes' questions about a namespace (its sockets in a selection, its stats). */
  attach (entry: NamespaceEntry): void {
    const nsp = entry.nsp
    nsp.on(COUNT_EVENT as any, (selection: RoomSelection, ack: Ack) => { ack(countLocal(nsp, selection)) })
    nsp.on(STATS_EVENT as any, (_: unknown, ack: Ack) => { ack(localStats(nsp)) })
  }

  /**
   * Runs the handlers of `name` on every node (this one included), through the adapter. Throws NotReady
   * (and runs nothing) while Redis is unreachable, as a publish does.
   */
  emit (name: string, data: unknown): void {
    this.assertUp()
    this.#deliver(name, data)
    const link = this.link
    if (link !== undefined) {
      link.serverSideEmit(this.#root, [CLUSTER_EVENT, name, data], (err) => {
        this.#o.log.warn({ err, event: name }, 'cluster message not sent to other nodes')
      })
    }
  }

  /** Adds a handler of the messages `name`, while the plugins set up. */
  on (name: string, handler: (data: any) => void): void {
    this.#o.registry.assertOpen(`cluster handler ${name}`)
    const list = this.#handlers.get(name) ?? []
    list.push(handler)
    this.#handlers.set(name, list)
  }

  /** The sockets of the other nodes in a selection of rooms of `nsp`; partial when a node did not answer in time. */
  async countElsewhere (nsp: RealtimeNamespace, selection: RoomSelection): Promise<{ count: number, partial: boolean }> {
    if (this.link === undefined) return { count: 0, partial: false }
    const { responses, partial } = await this.#ask<number>(this.link, nsp, COUNT_EVENT, selection)
    if (partial) this.#o.onPartial?.('count')
    let count = 0
    for (const n of responses) count += n
    return { count, partial }
  }

  /** Connected sockets, rooms and sockets per tenant of a namespace; across the cluster unless `local`. */
  async stats (name: string, local = false): Promise<NamespaceStats & { partial?: boolean }> {
    const entry = this.#o.registry.get(name)
    if (entry === undefined) return { sockets: 0, rooms: 0, tenants: {} }
    const mine = localStats(entry.nsp)
    const link = this.link
    if (local || link === undefined) return mine
    const { responses, partial } = await this.#ask<NamespaceStats>(link, entry.nsp, STATS_EVENT, null)
    if (partial) this.#o.onPartial?.('stats')
    for (const r of responses) {
      mine.sockets += r.sockets
      mine.rooms += r.rooms
      for (const [t, n] of Object.entries(r.tenants)) mine.tenants[t] = (mine.tenants[t] ?? 0) + n
    }
    return partial ? { ...mine, partial } : mine
  }

  #deliver (name: string, data: unknown): void {
    for (const handler of this.#handlers.get(name) ?? []) {
      try {
        handler(data)
      } catch (err) {
        this.#o.log.error({ err, event: name }, 'cluster handler failed')
      }
    }
  }

  /** Asks every other node (server-side emit with ack); a node that does not answer in time makes the result partial. */
  async #ask<T> (link: ClusterLink, nsp: RealtimeNamespace, event: string, data: unknown): Promise<{ responses: T[], partial: boolean }> {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => { resolve({ responses: [], partial: true }) }, this.#o.countTimeoutMs)
      link.serverSideEmit(nsp, [event, data, (err: Error | null, responses: T[]) => {
        clearTimeout(timer)
        resolve({ responses: responses ?? [], partial: err !== null && err !== undefined })
      }], () => {
        // Redis could not be asked how many nodes there are: nobody will answer.
        clearTimeout(timer)
        resolve({ responses: [], partial: true })
      })
    })
  }
}

function localStats (nsp: RealtimeNamespace): NamespaceStats {
  const tenants: Record<string, number> = {}
  for (const socket of nsp.sockets.values()) {
    const t = socket.data.user?.tenantId
    if (t !== undefined) tenants[t] = (tenants[t] ?? 0) + 1
  }
  let rooms = 0
  for (const name of nsp.adapter.rooms.keys()) if (!nsp.sockets.has(name)) rooms++
  return { sockets: nsp.sockets.size, rooms, tenants }
}
