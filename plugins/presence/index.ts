/**
 * presence: who is online and who is typing, across sockets and nodes (issue 7).
 *
 * - online lists: `user:online` / `user:offline` (WhatsApp builder gateway) or `customer:online` / `customer:offline`
 *   (commerce back office), once per user and tenant, the offline debounced; queries by ack and REST;
 * - typing: the WhatsApp builder gateway protocol's `typing:start` / `typing:stop` or the WhatsApp CRM rooms protocol's `typing:indicator`, per room, throttled,
 *   expiring;
 * - with Redis, nodes hold leases: the users of a node that dies go offline within `nodeTimeoutMs`.
 *
 * See README.md for the events, options, REST routes and the cluster bound.
 */
import { definePlugin } from 'realtime-server'
import { PresenceConfig } from './errors.js'
import { events } from './events.js'
import { resolveLists } from './online-lists.js'
import { Presence } from './presence.js'
import { registerRoutes } from './routes.js'
import { options } from './schema.js'
import { registerSocketHandlers } from './socket.js'
import type { PresenceStore } from './store/index.js'
import { MemoryPresenceStore } from './store/memory.js'
import { RedisPresenceStore } from './store/redis.js'
import { Sweeper } from './sweeper.js'
import { Typing } from './typing.js'

export { options, events }
export type { PresenceOptions } from './schema.js'

/** The webhook events presence queues (docs/webhooks.md). */
const WEBHOOK_EVENTS = ['user.online', 'user.offline', 'member.added', 'member.removed', 'room.occupied', 'room.vacated']

/** Share of `nodeTimeoutMs` a lease lasts; heartbeats and sweeps run every fifth of it, so a dead node is seen within 0.8 of the bound. */
const LEASE_SHARE = 0.6
const TICKS_PER_BOUND = 5

export default definePlugin({
  name: 'presence',
  options,
  events,
  setup (app, opts) {
    const { realtime } = app
    const lists = resolveLists(opts.online)
    const { webhooks } = realtime
    const wanted = WEBHOOK_EVENTS.filter((type) => webhooks.wants(type))
    const store: PresenceStore = realtime.redis === undefined
      ? new MemoryPresenceStore({
        lastSeenTtlMs: opts.lastSeenTtlMs,
        hook: (event) => {
          if (!webhooks.wants(event.type)) return
          webhooks.emit(event).catch((err: unknown) => { realtime.log.error({ err, type: event.type }, 'presence webhook event not queued') })
        }
      })
      : new RedisPresenceStore(realtime.redis, {
        nodeId: realtime.nodeId,
        leaseMs: Math.round(opts.nodeTimeoutMs * LEASE_SHARE),
        lastSeenTtlMs: opts.lastSeenTtlMs,
        // Queued by the scripts, in the same call as the transition.
        webhooks: { stream: webhooks.stream ?? '', types: `,${wanted.join(',')},`, lua: webhooks.lua }
      })
    const sweeper = new Sweeper(async () => await presence.tick(), Math.round(opts.nodeTimeoutMs / TICKS_PER_BOUND), (err) => {
      realtime.log.error({ err }, 'presence sweep failed')
    })
    const presence = new Presence(realtime, store, lists, {
      delayMs: opts.offlineDelayMs,
      onPending: (dueInMs) => { sweeper.wakeIn(dueInMs) }
    })
    presence.register()
    realtime.metrics.gauge('online_users', {
      help: 'Users with at least one socket on this node, per online list (its namespace); the cluster\'s total is the sum over nodes minus users on several nodes.',
      labels: ['list'],
      collect: () => presence.onlineHere()
    })

    const typing = opts.typing.map((o) => new Typing(realtime, o))
    const typingNamespaces = new Set<string>()
    for (const t of typing) {
      if (typingNamespaces.has(t.namespace)) throw new PresenceConfig(`two typing entries on namespace ${t.namespace}`)
      typingNamespaces.add(t.namespace)
    }
    registerSocketHandlers(app, presence, typing, opts)
    registerRoutes(app, presence, opts.maxListSize)

    // The first tick registers the lease (and ends what a previous run left) before the server listens.
    app.addHook('onReady', async () => {
      await sweeper.run()
      sweeper.start()
    })
    // Runs after the core's preClose: sockets closed, their disconnect hooks done, Redis still open.
    app.addHook('preClose', async () => {
      await sweeper.stop()
      for (const t of typing) t.close()
      try {
        await presence.leave()
      } catch (err) {
        realtime.log.error({ err }, 'presence could not release this node; the other nodes will when its lease expires')
      }
    })
  }
})
