// The rooms a backend may move users into: the address templates (`channel:{channelId}`) of the plugins' event catalogs, by namespace.
import type { PluginContract } from '../contracts/registry.js'

/** A declared room template, and the plugin that declared it. */
export interface RoomTemplate {
  readonly template: string
  readonly plugin: string
  /** Matches a room name built from the template: every `{parameter}` stands for one or more characters. */
  readonly pattern: RegExp
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The pattern of a template: its literal parts as they are, each `{parameter}` one or more characters. */
export function templatePattern (template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/)
  return new RegExp(`^${parts.map(escape).join('.+')}$`, 's')
}

/**
 * The room templates each namespace accepts: those of the catalog `rooms` of the plugins on it (a room entry's own
 * `namespaces`, else the plugin's), as the AsyncAPI document lists them. A room of no template is not the
 * backend's to create: a plugin would never publish to it, and it would not be documented.
 */
export class RoomTemplates {
  readonly #byNamespace = new Map<string, RoomTemplate[]>()

  constructor (contracts: readonly PluginContract[]) {
    for (const contract of contracts) {
      for (const [template, room] of Object.entries(contract.catalog.rooms ?? {})) {
        const pattern = templatePattern(template)
        // Only on namespaces the plugin uses: a plugin declares rooms of its own namespaces.
        for (const namespace of (room.namespaces ?? contract.namespaces).filter((n) => contract.namespaces.includes(n))) {
          let list = this.#byNamespace.get(namespace)
          if (list === undefined) this.#byNamespace.set(namespace, list = [])
          list.push({ template, plugin: contract.plugin, pattern })
        }
      }
    }
  }

  /** The template of `namespace` that `room` matches; undefined when none does. */
  match (namespace: string, room: string): RoomTemplate | undefined {
    return this.#byNamespace.get(namespace)?.find((t) => t.pattern.test(room))
  }

  /** The templates declared on `namespace`. */
  of (namespace: string): readonly RoomTemplate[] {
    return this.#byNamespace.get(namespace) ?? []
  }

  /** The namespaces where a template matches `room` (for an error that says where the room would be accepted). */
  namespacesOf (room: string): string[] {
    return [...this.#byNamespace].filter(([, list]) => list.some((t) => t.pattern.test(room))).map(([namespace]) => namespace)
  }
}
