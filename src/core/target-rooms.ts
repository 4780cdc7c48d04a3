// Room membership by target: the sockets of a publish target, on every node, join or leave a room of the target's tenant.
import type { ClusterBus } from './cluster/bus.js'
import { PluginLifecycle } from '../lib/errors.js'
import type { NamespaceRegistry } from './namespaces/registry.js'
import { selectRooms, type PublishTarget } from './publish.js'
import { scopedRoom } from './rooms.js'
import type { RealtimeNamespace } from './socket-types.js'

/** What `ns.socketsJoin` and `ns.socketsLeave` do, through the adapter so that every node applies it. */
export class TargetRooms {
  readonly #registry: NamespaceRegistry
  readonly #bus: ClusterBus

  constructor (registry: NamespaceRegistry, bus: ClusterBus) {
    this.#registry = registry
    this.#bus = bus
  }

  /** Adds the sockets of a target, on every node, to a room of the target's tenant. */
  async socketsJoin (name: string, target: PublishTarget, room: string): Promise<void> {
    this.#select(name, target)?.socketsJoin(scopedRoom(target.tenantId, room))
  }

  /** Removes the sockets of a target, on every node, from a room of the target's tenant. */
  async socketsLeave (name: string, target: PublishTarget, room: string): Promise<void> {
    this.#select(name, target)?.socketsLeave(scopedRoom(target.tenantId, room))
  }

  /** The target's sockets on namespace `name`; undefined when its lists select nobody. */
  #select (name: string, target: PublishTarget): ReturnType<RealtimeNamespace['in']> | undefined {
    const entry = this.#registry.get(name)
    if (entry === undefined) throw new PluginLifecycle(`namespace "${name}" is not used by any plugin`)
    const { rooms, except } = selectRooms(target)
    if (rooms.length === 0) return undefined
    // Refused while Redis is down: the other nodes would not see the change.
    this.#bus.assertUp()
    const op = entry.nsp.in(rooms)
    return except.length > 0 ? op.except(except) : op
  }
}
