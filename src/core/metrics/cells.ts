// Counters incremented on the hot path as plain numbers (one field write), handed to prom-client when scraped.
import { Counter, type Registry } from 'prom-client'
import type { MetricDefinition } from './catalog.js'

/** One series of a counter: the hot path adds to `value`, nothing else. */
export class Cell {
  value = 0
  constructor (readonly labels: Readonly<Record<string, string>>) {}
}

/**
 * A counter family whose series are cells resolved once (per event slot, per namespace) and kept by whoever
 * counts: `cell.value++` per event instead of prom-client's `labels().inc()`, which hashes the labels on every
 * call. The cells are copied into the prom-client counter when the registry is scraped.
 */
export class CellCounter {
  readonly #cells = new Map<string, Cell>()
  readonly #labels: readonly string[]

  constructor (registry: Registry, definition: MetricDefinition) {
    this.#labels = definition.labels
    const cells = this.#cells
    // eslint-disable-next-line no-new
    new Counter({
      name: definition.name,
      help: definition.help,
      labelNames: [...definition.labels],
      registers: [registry],
      collect () {
        this.reset()
        for (const cell of cells.values()) this.inc(cell.labels, cell.value)
      }
    })
  }

  /** The cell of these label values (in the definition's order), made on first use. */
  cell (...values: string[]): Cell {
    const key = values.join('\u0000')
    let cell = this.#cells.get(key)
    if (cell === undefined) {
      const labels: Record<string, string> = {}
      this.#labels.forEach((name, i) => { labels[name] = values[i] ?? '' })
      cell = new Cell(labels)
      this.#cells.set(key, cell)
    }
    return cell
  }
}
