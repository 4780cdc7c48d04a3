/**
 * Socket handlers: `session:join` (access check, room, snapshot) and `session:leave`, with the catalog's schemas.
 */
import type { AccessPolicy, PluginApp, PluginNamespace } from 'realtime-server'
import { WatchRefused } from './errors.js'
import { SessionRoomRequest } from './events.js'
import { sessionRoom } from './rooms.js'
import type { SessionStore } from './store/index.js'

export interface SocketDeps {
  ns: PluginNamespace
  sessions: SessionStore
  policy: AccessPolicy
}

export function registerSocketHandlers (_app: PluginApp, { ns, sessions, policy }: SocketDeps): void {
  ns.handle('session:join', SessionRoomRequest, async (ctx, { sessionId }) => {
    const decision = await policy.check(ctx.user, 'session', sessionId)
    if (!decision.allowed) throw new WatchRefused(sessionId, decision.reason ?? 'refused')
    // Join before reading: an event applied after the read is published after the join, so it reaches this
    // socket; one applied before the read is in the snapshot (and, if it arrives live too, has seq <= state.seq).
    ctx.join(sessionRoom(sessionId))
    let state
    try {
      state = (await sessions.read(ctx.user.tenantId, sessionId)) ?? null
    } catch (err) {
      ctx.leave(sessionRoom(sessionId)) // no live events without their snapshot
      throw err
    }
    ctx.emit('session:state', { sessionId, state })
    return decision.data === undefined ? { sessionId, success: true, state } : { sessionId, success: true, state, data: decision.data }
  })

  ns.handle('session:leave', SessionRoomRequest, (ctx, { sessionId }) => {
    ctx.leave(sessionRoom(sessionId))
    return { sessionId, success: true }
  })
}
