/** What each loaded plugin declared for the contract documents: its catalog, the handlers it registered, its namespaces. */
import type { Core } from '../core.js'
import type { EventCatalog, HandledEvent } from '../plugins/catalog.js'

/** One plugin's part of the protocol, as it set up for this config. */
export interface PluginContract {
  readonly plugin: string
  readonly catalog: EventCatalog
  readonly handled: readonly HandledEvent[]
  readonly namespaces: readonly string[]
}

// Keyed by the core (one per app), so two apps in one process keep their own; collected at start-up only.
const contracts = new WeakMap<Core, PluginContract[]>()

/** Records a plugin once it set up and its catalog was checked. */
export function recordContract (core: Core, contract: PluginContract): void {
  let list = contracts.get(core)
  if (list === undefined) contracts.set(core, list = [])
  list.push(contract)
}

/** The plugins of an app, in load order. */
export function contractsOf (core: Core): readonly PluginContract[] {
  return contracts.get(core) ?? []
}
