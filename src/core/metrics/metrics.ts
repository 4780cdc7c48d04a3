// The server's metrics: its own prom-client registry (never the global one), the core's families, and what is read when scraped.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Redis } from 'ioredis'
import type { MetricsOptions } from '../../config/schema.js'
import { fastBroadcastStats } from '../patches/fast-broadcast.js'
import type { NamespaceRegistry } from '../namespaces/registry.js'
import type { RealtimeServer } from '../socket-types.js'
import { CORE_METRICS as M, SOCKET_PUBLISHER } from './catalog.js'
import { CellCounter, type Cell } from './cells.js'
import { TenantLabels } from './tenants.js'

/** Seconds; a publish on one node takes well under a millisecond, with Redis a round trip or two. */
const PUBLISH_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** The counters of one client event, resolved once when its listener is made. */
export interface EventCells {
  readonly in: Cell
  readonly invalid: Cell
  readonly rateLimited: Cell
}

/** What the scrape-time families read: set once the Socket.IO side exists. */
interface Sources {
  io: RealtimeServer
  namespaces: NamespaceRegistry
}

/**
 * The metrics of one server. Every counter of the hot path is a `Cell` resolved once (per event slot, per
 * namespace, per publishing plugin) and incremented as a number; connection counts, the fast path and Redis
 * health are read when the registry is scraped, not counted as they happen.
 */
export class Metrics {
  readonly registry = new Registry()
  /** False with `metrics.enabled: false`: nothing is served, and the per-publish work (deliveries, latency) is skipped. */
  readonly enabled: boolean
  readonly tenants: TenantLabels | undefined
  readonly handshakeRefusals: Counter<'namespace' | 'code'>
  readonly httpRequests: Counter<'route' | 'method' | 'status'>
  readonly clusterPartial: Counter<'question'>
  readonly webhookAttempts: Counter<'endpoint' | 'outcome'>
  readonly webhookDeadLetters: Counter<'endpoint'>
  readonly publishDuration: Histogram
  readonly triggerDuration: Histogram<'plugin' | 'route'>
  readonly #eventsIn: CellCounter
  readonly #eventsInvalid: CellCounter
  readonly #eventsRateLimited: CellCounter
  readonly #accepted: CellCounter
  readonly #broadcasts: CellCounter
  readonly #deliveries: CellCounter
  readonly #tenantBroadcasts: CellCounter | undefined
  readonly #tenantDeliveries: CellCounter | undefined
  /** Broadcast cells by publishing plugin, then namespace: two map reads per publish, no key built. */
  readonly #broadcastCells = new Map<string, Map<string, Cell>>()
  readonly #deliveryCells = new Map<string, Cell>()
  #sources: Sources | undefined

  constructor (options: MetricsOptions) {
    this.enabled = options.enabled
    const registry = this.registry
    if (options.enabled && options.processMetrics) collectDefaultMetrics({ register: registry })
    this.#eventsIn = new CellCounter(registry, M.eventsIn)
    this.#eventsInvalid = new CellCounter(registry, M.eventsInvalid)
    this.#eventsRateLimited = new CellCounter(registry, M.eventsRateLimited)
    this.#accepted = new CellCounter(registry, M.connectionsAccepted)
    this.#broadcasts = new CellCounter(registry, M.broadcasts)
    this.#deliveries = new CellCounter(registry, M.deliveries)
    const plain = <L extends string>(d: typeof M[keyof typeof M]): Counter<L> =>
      new Counter<L>({ name: d.name, help: d.help, labelNames: d.labels as unknown as L[], registers: [registry] })
    this.handshakeRefusals = plain(M.handshakeRefusals)
    this.httpRequests = plain(M.httpRequests)
    this.clusterPartial = plain(M.clusterPartial)
    this.webhookAttempts = plain(M.webhookAttempts)
    this.webhookDeadLetters = plain(M.webhookDeadLetters)
    this.publishDuration = new Histogram({ name: M.publishDuration.name, help: M.publishDuration.help, buckets: PUBLISH_BUCKETS, registers: [registry] })
    this.triggerDuration = new Histogram({ name: M.triggerDuration.name, help: M.triggerDuration.help, labelNames: [...M.triggerDuration.labels] as Array<'plugin' | 'route'>, buckets: PUBLISH_BUCKETS, registers: [registry] })

    const metrics = this
    // eslint-disable-next-line no-new
    new Gauge({
      name: M.connections.name,
      help: M.connections.help,
      labelNames: [...M.connections.labels],
      registers: [registry],
      collect () {
        this.reset()
        const s = metrics.#sources
        if (s === undefined) return
        for (const entry of s.namespaces.entries()) {
          const counts = new Map<string, number>()
          for (const socket of entry.nsp.sockets.values()) {
            const transport = socket.conn.transport.name
            counts.set(transport, (counts.get(transport) ?? 0) + 1)
          }
          for (const [transport, n] of counts) this.set({ namespace: entry.nsp.name, transport }, n)
        }
      }
    })
    // eslint-disable-next-line no-new
    new Counter({
      name: M.fastBroadcastDeliveries.name,
      help: M.fastBroadcastDeliveries.help,
      labelNames: [...M.fastBroadcastDeliveries.labels],
      registers: [registry],
      collect () {
        this.reset()
        const stats = metrics.#sources === undefined ? undefined : fastBroadcastStats(metrics.#sources.io)
        this.inc({ path: 'fast' }, stats?.fast ?? 0)
        this.inc({ path: 'fallback' }, stats?.fallback ?? 0)
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: M.fastBroadcastOn.name,
      help: M.fastBroadcastOn.help,
      registers: [registry],
      collect () {
        const stats = metrics.#sources === undefined ? undefined : fastBroadcastStats(metrics.#sources.io)
        this.set(stats !== undefined && stats.disabled === null ? 1 : 0)
      }
    })

    if (options.tenantLabel.enabled) {
      const tenants = this.tenants = new TenantLabels(options.tenantLabel.max)
      this.#tenantBroadcasts = new CellCounter(registry, M.tenantBroadcasts)
      this.#tenantDeliveries = new CellCounter(registry, M.tenantDeliveries)
      // eslint-disable-next-line no-new
      new Gauge({
        name: M.tenantConnections.name,
        help: M.tenantConnections.help,
        labelNames: [...M.tenantConnections.labels],
        registers: [registry],
        collect () {
          this.reset()
          const s = metrics.#sources
          if (s === undefined) return
          const counts = new Map<string, number>()
          for (const entry of s.namespaces.entries()) {
            for (const socket of entry.nsp.sockets.values()) {
              const tenantId = socket.data.user?.tenantId
              if (tenantId === undefined) continue
              const label = tenants.label(tenantId)
              counts.set(label, (counts.get(label) ?? 0) + 1)
            }
          }
          for (const [tenant, n] of counts) this.set({ tenant }, n)
        }
      })
    }
  }

  /** Gives the scrape-time families what they read, once the Socket.IO side exists. */
  observe (io: RealtimeServer, namespaces: NamespaceRegistry): void {
    this.#sources = { io, namespaces }
  }

  /**
   * Follows the shared Redis connection and the adapter's: up gauges read when scraped, errors and
   * reconnection attempts counted as the client reports them.
   */
  observeRedis (redis: Redis, adapterProblem: () => string | undefined): void {
    const registry = this.registry
    const errors = new Counter({ name: M.redisErrors.name, help: M.redisErrors.help, registers: [registry] })
    const reconnects = new Counter({ name: M.redisReconnects.name, help: M.redisReconnects.help, registers: [registry] })
    redis.on('error', () => { errors.inc() })
    redis.on('reconnecting', () => { reconnects.inc() })
    // eslint-disable-next-line no-new
    new Gauge({ name: M.redisUp.name, help: M.redisUp.help, registers: [registry], collect () { this.set(redis.status === 'ready' ? 1 : 0) } })
    // eslint-disable-next-line no-new
    new Gauge({ name: M.adapterUp.name, help: M.adapterUp.help, registers: [registry], collect () { this.set(adapterProblem() === undefined ? 1 : 0) } })
  }

  /** The counters of a client event, for its listener to keep. */
  event (plugin: string, event: string): EventCells {
    return {
      in: this.#eventsIn.cell(plugin, event),
      invalid: this.#eventsInvalid.cell(plugin, event),
      rateLimited: this.#eventsRateLimited.cell(plugin, event)
    }
  }

  /** The counter of a namespace's accepted connections. */
  accepted (namespace: string): Cell { return this.#accepted.cell(namespace) }

  /** Counts one publish, and the sockets of this node it reached (`reached`, when known). */
  published (plugin: string | undefined, namespace: string, tenantId: string, reached: number): void {
    const p = plugin ?? SOCKET_PUBLISHER
    let byNamespace = this.#broadcastCells.get(p)
    if (byNamespace === undefined) this.#broadcastCells.set(p, byNamespace = new Map())
    let cell = byNamespace.get(namespace)
    if (cell === undefined) byNamespace.set(namespace, cell = this.#broadcasts.cell(p, namespace))
    cell.value++
    let delivered = this.#deliveryCells.get(namespace)
    if (delivered === undefined) this.#deliveryCells.set(namespace, delivered = this.#deliveries.cell(namespace))
    delivered.value += reached
    const tenants = this.tenants
    if (tenants !== undefined) {
      const label = tenants.label(tenantId)
      this.#tenantBroadcasts!.cell(label).value++
      this.#tenantDeliveries!.cell(label).value += reached
    }
  }

  /** The Prometheus text of every family. */
  async text (): Promise<string> { return await this.registry.metrics() }
}
