/**
 * Socket handlers on the plugin's namespace. The core has already joined each socket to its tenant,
 * user and role rooms; rooms joined here go through `ctx.join`, so they are scoped to the socket's tenant.
 * - `join-tenant` { tenantId }: acknowledged for the own tenant, refused for any other (CRM tenant events);
 * - `subscribe:<kind>` / `unsubscribe:<kind>` id | { id }: for each declared room kind, checked by its access policy (WhatsApp CRM rooms);
 * - `ping` -> `pong` { timestamp } (WhatsApp CRM rooms);
 * - `test-event` { type, payload, language? }: development mode only, into the sender's tenant (CRM tenant events).
 */
import { Type, type PluginNamespace, type RealtimeApi, type SocketContext, type Static } from 'realtime-server'
import { DevelopmentOnly, SubscribeRefused, TenantMismatch, TooManySubscriptions } from './errors.js'
import type { EventTypes } from './event-types.js'
import { JoinTenant, Pong, RoomRef, testEventSchema } from './events.js'
import type { EventInput, PublishEvent } from './publisher.js'
import type { BroadcastOptions, RoomKind } from './schema.js'
import { roomName } from './target.js'

export interface SocketDeps {
  realtime: RealtimeApi
  options: BroadcastOptions
  types: EventTypes
  publish: PublishEvent
}

const idOf = (ref: string | { id: string }): string => (typeof ref === 'string' ? ref : ref.id)

export function registerSocketHandlers (ns: PluginNamespace, { realtime, options, types, publish }: SocketDeps): void {
  ns.handle('join-tenant', JoinTenant, (ctx, { tenantId }) => {
    if (tenantId !== ctx.user.tenantId) throw new TenantMismatch(JSON.stringify(tenantId), 'the socket\'s token belongs to another tenant')
    return { ok: true, tenantId }
  })

  if (options.heartbeat) {
    ns.handle('ping', Type.Unknown(), (ctx) => {
      const pong: Static<typeof Pong> = { timestamp: Date.now() }
      ctx.emit('pong', pong)
      return pong
    })
  }

  ns.handle('test-event', testEventSchema(options.languages), async (ctx, data) => {
    if (!options.developmentMode) throw new DevelopmentOnly()
    const event = data as EventInput
    types.validate(event.type, event.payload, ctx.user.tenantId)
    return await publish(ctx.user.tenantId, { type: event.type, payload: event.payload, language: event.language })
  })

  const kinds = new Set(options.rooms.map((r) => r.kind))
  /** Rooms of the declared kinds the socket is in (other plugins' rooms on a shared namespace do not count). */
  const subscriptions = (ctx: SocketContext): number => {
    let n = 0
    for (const room of ctx.rooms()) {
      const i = room.indexOf(':')
      if (i > 0 && kinds.has(room.slice(0, i))) n++
    }
    return n
  }

  for (const room of options.rooms) registerRoomKind(ns, realtime, room, options.maxSubscriptions, subscriptions)
}

function registerRoomKind (ns: PluginNamespace, realtime: RealtimeApi, { kind, access }: RoomKind, max: number, subscriptions: (ctx: SocketContext) => number): void {
  const policy = realtime.accessPolicy(access)

  ns.handle(`subscribe:${kind}`, RoomRef, async (ctx, ref) => {
    const id = idOf(ref)
    const room = roomName(kind, id)
    if (ctx.isIn(room)) return { ok: true, kind, id }
    if (subscriptions(ctx) >= max) throw new TooManySubscriptions(String(max))
    const decision = await policy.check(ctx.user, kind, id)
    if (!decision.allowed) throw new SubscribeRefused(room, decision.reason ?? 'not allowed')
    // The policy may have taken a while (hook): `join` does nothing for a socket gone meanwhile.
    ctx.join(room)
    realtime.log.debug({ socketId: ctx.id, tenantId: ctx.user.tenantId, room }, 'subscribed')
    return { ok: true, kind, id }
  })

  ns.handle(`unsubscribe:${kind}`, RoomRef, (ctx, ref) => {
    const id = idOf(ref)
    ctx.leave(roomName(kind, id))
    return { ok: true, kind, id }
  })
}
