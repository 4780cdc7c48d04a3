// `realtime.metrics`: counters, gauges and histograms of a plugin in the server's registry, named after the plugin.
import { Gauge, Histogram, type Registry } from 'prom-client'
import { PluginInvalid, PluginLifecycle } from '../../lib/errors.js'
import { CellCounter } from './cells.js'

/** A counter of a plugin. `inc` is one number written; `child` resolves a labelled series once, to keep. */
export interface PluginCounter {
  inc (value?: number): void
  /** The series of these label values (in the order of `labels`), resolved once: keep it, do not call per event. */
  child (...values: string[]): { inc (value?: number): void }
}

/** A gauge of a plugin: set as things change, or read when scraped (`collect`). */
export interface PluginGauge {
  set (value: number, ...labelValues: string[]): void
  inc (value?: number, ...labelValues: string[]): void
  dec (value?: number, ...labelValues: string[]): void
}

/** A histogram of a plugin (seconds, by convention). */
export interface PluginHistogram {
  observe (value: number): void
  /** Starts a timer: the function returned observes the seconds since, and returns them. */
  startTimer (): () => number
}

/** What a gauge reads when scraped: one value, or one per label values (in the order of `labels`). */
export type GaugeCollect = () => number | Iterable<readonly [readonly string[], number]> | Promise<number | Iterable<readonly [readonly string[], number]>>

export interface MetricOptions {
  help: string
  /** Label names; each must take few values (never a user, room or message id: every value is a series). */
  labels?: readonly string[]
}

/**
 * A plugin's metrics. Names are the plugin's: `rt_plugin_<plugin>_<name>` (dashes become underscores), so no two
 * plugins and no core family meet. Declared while the plugin sets up; docs/operations.md lists those of the
 * built-in plugins (generated).
 *
 * @example
 * const duplicates = realtime.metrics.counter('duplicates_total', { help: 'Retries answered with the original message.' })
 * duplicates.inc()
 * realtime.metrics.gauge('online_users', { help: 'Users online on this node.', collect: () => presence.size })
 * const stored = realtime.metrics.histogram('store_seconds', { help: 'Time to store a message.' })
 * const done = stored.startTimer(); await store.create(...); done()
 */
export interface PluginMetrics {
  /** A counter; its name must end with `_total`. */
  counter (name: string, options: MetricOptions): PluginCounter
  gauge (name: string, options: MetricOptions & { collect?: GaugeCollect }): PluginGauge
  /** A histogram without labels; `buckets` in its unit (prom-client's defaults, in seconds, otherwise). */
  histogram (name: string, options: { help: string, buckets?: readonly number[] }): PluginHistogram
}

const NAME = /^[a-z][a-z0-9_]*$/

/** The prefix of a plugin's metric names. */
export const pluginMetricPrefix = (plugin: string): string => `rt_plugin_${plugin.replace(/-/g, '_')}_`

const labelsOf = (names: readonly string[], values: readonly string[]): Record<string, string> => {
  const labels: Record<string, string> = {}
  names.forEach((n, i) => { labels[n] = values[i] ?? '' })
  return labels
}

/** The metrics API of one plugin; `isOpen` is false once the server is ready (declaring then is a lifecycle error). */
export function pluginMetrics (registry: Registry, plugin: string, isOpen: () => boolean): PluginMetrics {
  const prefix = pluginMetricPrefix(plugin)
  const fullName = (name: string, kind: string): string => {
    if (!isOpen()) throw new PluginLifecycle(`${kind} ${name} of "${plugin}" declared after start`)
    if (!NAME.test(name)) throw new PluginInvalid(`"${plugin}": metric name "${name}" must be lowercase letters, digits and underscores`)
    const full = prefix + name
    if (registry.getSingleMetric(full) !== undefined) throw new PluginInvalid(`"${plugin}": metric ${full} is declared twice`)
    return full
  }
  return {
    counter (name, options) {
      if (!name.endsWith('_total')) throw new PluginInvalid(`"${plugin}": counter name "${name}" must end with _total`)
      const labels = options.labels ?? []
      const cells = new CellCounter(registry, { name: fullName(name, 'counter'), type: 'counter', help: options.help, labels })
      const unlabelled = labels.length === 0 ? cells.cell() : undefined
      return {
        inc (value = 1) {
          if (unlabelled === undefined) throw new PluginInvalid(`"${plugin}": counter ${name} has labels: use child(...values).inc()`)
          unlabelled.value += value
        },
        child (...values) {
          const cell = cells.cell(...values)
          return { inc (value = 1) { cell.value += value } }
        }
      }
    },
    gauge (name, options) {
      const names = [...(options.labels ?? [])]
      const collect = options.collect
      const gauge = new Gauge({
        name: fullName(name, 'gauge'),
        help: options.help,
        labelNames: names,
        registers: [registry],
        collect: collect === undefined
          ? undefined
          : async function (this: Gauge) {
            const read = await collect()
            if (typeof read === 'number') {
              this.set(read)
              return
            }
            this.reset()
            for (const [values, value] of read) this.set(labelsOf(names, values), value)
          }
      })
      return {
        set (value, ...values) { gauge.set(labelsOf(names, values), value) },
        inc (value = 1, ...values) { gauge.inc(labelsOf(names, values), value) },
        dec (value = 1, ...values) { gauge.dec(labelsOf(names, values), value) }
      }
    },
    histogram (name, options) {
      const histogram = new Histogram({
        name: fullName(name, 'histogram'),
        help: options.help,
        registers: [registry],
        ...(options.buckets === undefined ? {} : { buckets: [...options.buckets] })
      })
      return {
        observe (value) { histogram.observe(value) },
        startTimer () { return histogram.startTimer() }
      }
    }
  }
}
