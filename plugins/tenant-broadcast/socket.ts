/**
 * Socket handlers on the plugin's namespace. The core has already joined each socket to its tenant,
 * user and role rooms; rooms joined here go through `ctx.join`, so they are scoped to the socket's tenant.
 * - `join-tenant` { tenantId }: acknowledged for the own tenant, refused for any other (CRM tenant events);
 * - `subscribe:<kind>` / `unsubscribe:<kind>` id | { id }: for each declared room kind, checked by its access policy (WhatsApp CRM rooms);
 * - `ping` -> `pong` { timestamp } (WhatsApp CRM rooms), with `heartbeat`;
 * - `test-event` { type, payload, language? }: into the sender's tenant with `developmentMode`, refused without (CRM tenant events).
 * The schemas are the catalog's (events.ts).
 */
import type { PluginApp, PluginNamespace, RealtimeApi, SocketContext } from 'realtime-server'
import { DevelopmentOnly, SubscribeRefused, TenantMismatch, TooManySubscriptions } from './errors.js'
import type { EventTypes } from './event-types.js'
import { JoinTenant, Ping, RoomRef, TestEventDisabled, testEventSchema, type Pong } from './events.js'
import type { PublishEvent } from './publisher.js'
import { kindOfRoom, kindRoom } from './rooms.js'
import type { RoomKind, TenantBroadcastOptions } from './schema.js'

export interface SocketDeps {
  ns: PluginNamespace
  options: TenantBroadcastOptions
  types: EventTypes
  publish: PublishEvent
}

const idOf = (ref: string | { id: string }): string => (typeof ref === 'string' ? ref : ref.id)

export function registerSocketHandlers (app: PluginApp, { ns, options, types, publish }: SocketDeps): void {
  const { realtime } = app
  ns.handle('join-tenant', JoinTenant, (ctx, { tenantId }) => {
    if (tenantId !== ctx.user.tenantId) throw new TenantMismatch(JSON.stringify(tenantId), 'the socket\'s token belongs to another tenant')
    return { ok: true, tenantId }
  })

  if (options.heartbeat) {
    ns.handle('ping', Ping, (ctx) => {
      const pong: Pong = { timestamp: Date.now() }
      ctx.emit('pong', pong)
      return pong
    })
  }

  if (options.developmentMode) {
    ns.handle('test-event', testEventSchema(options.languages), async (ctx, { type, payload, language }) => {
      types.validate(type, payload, ctx.user.tenantId)
      return await publish(ctx.user.tenantId, { type, payload, language })
    })
  } else {
    ns.handle('test-event', TestEventDisabled, () => { throw new DevelopmentOnly() })
  }

  const kinds = new Set(options.rooms.map((r) => r.kind))
  /** Rooms of the declared kinds the socket is in (other plugins' rooms on a shared namespace do not count). */
  const subscriptions = (ctx: SocketContext): number => {
    let n = 0
    for (const room of ctx.rooms()) {
      const kind = kindOfRoom(room)
      if (kind !== undefined && kinds.has(kind)) n++
    }
    return n
  }

  for (const room of options.rooms) registerRoomKind(ns, realtime, room, options.maxSubscriptions, subscriptions)
}

function registerRoomKind (ns: PluginNamespace, realtime: RealtimeApi, { kind, access }: RoomKind, max: number, subscriptions: (ctx: SocketContext) => number): void {
  const policy = realtime.accessPolicy(access)

  ns.handle(`subscribe:${kind}`, RoomRef, async (ctx, ref) => {
    const id = idOf(ref)
    const room = kindRoom(kind, id)
    if (ctx.isIn(room)) return { ok: true, kind, id }
    if (subscriptions(ctx) >= max) throw new TooManySubscriptions(String(max))
    const decision = await policy.check(ctx.user, kind, id)
    if (!decision.allowed) throw new SubscribeRefused(room, decision.reason ?? 'not allowed')
    // The policy may have taken a while (hook): `join` does nothing for a socket gone meanwhile.
    ctx.join(room)
    realtime.log.debug({ socketId: ctx.id, tenantId: ctx.user.tenantId, room }, 'subscribed')
    return decision.data === undefined ? { ok: true, kind, id } : { ok: true, kind, id, data: decision.data }
  })

  ns.handle(`unsubscribe:${kind}`, RoomRef, (ctx, ref) => {
    const id = idOf(ref)
    ctx.leave(kindRoom(kind, id))
    return { ok: true, kind, id }
  })
}
