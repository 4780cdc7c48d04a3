/** `definePlugin`: a plugin's definition (name, options, event catalog, setup) wrapped as a Fastify plugin. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify'
import fp from 'fastify-plugin'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Static, TSchema } from 'typebox'
import { kCore, type Core } from '../core.js'
import { PluginInvalid } from '../../lib/errors.js'
import { createPluginApi, type RealtimeApi } from './api.js'
import { checkCatalog, forwardedEvents, type EventCatalog } from './catalog.js'
import { checkEventLimits } from '../limits/events.js'
import { recordContract } from '../contracts/registry.js'

export type { ClientEvent, EventCatalog, RoomEntry, ServerEvent, WebSocketCatalog } from './catalog.js'

/**
 * The Fastify instance a plugin sets up: its own encapsulated context, routes prefixed with `/api/<name>`,
 * `app.realtime` decorated (typed for the plugin's name, so `provide` takes what the plugin declared it provides).
 */
export type PluginApp<N extends string = string> =
  FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider> & { realtime: RealtimeApi<N> }

export interface PluginDefinition<S extends TSchema, N extends string = string> {
  /** Unique name, also the plugin's key in the config's `plugins` and the route prefix `/api/<name>`. */
  name: N
  /** Plugins that must load first; their `provide()`d values are reachable with `realtime.use()`. */
  dependencies?: string[]
  /** TypeBox schema of the options, with `default` and `description` on each property. */
  options: S
  /**
   * The events the plugin handles and emits, with their payload schemas: a function of the options when they
   * change the events. Checked at start-up against the handlers the plugin registers (see `EventCatalog`).
   */
  events?: EventCatalog | Bivariant<(options: Static<S>) => EventCatalog>
  /** Declares namespaces, handlers, hooks and routes; runs once at start-up with validated options. */
  setup (app: PluginApp<N>, options: Static<S>): Promise<void> | void
}

/**
 * A function type whose parameters are compared bivariantly (as a method's are), so that a plugin with precise
 * options is still a `RealtimePlugin` in a list of plugins of any options.
 */
type Bivariant<F extends (...args: any[]) => unknown> = { fn (...args: Parameters<F>): ReturnType<F> }['fn']

/** What `definePlugin` returns: a fastify-plugin-wrapped function carrying its definition. */
export type RealtimePlugin<S extends TSchema = TSchema, N extends string = string> =
  Bivariant<(instance: FastifyInstance, options: Static<S>) => Promise<void>> & { readonly definition: PluginDefinition<S, N> }

/** The catalog of a definition for the given options. */
export function catalogOf<S extends TSchema> (definition: PluginDefinition<S, string>, options: Static<S>): EventCatalog {
  const { events } = definition
  return typeof events === 'function' ? events(options) : events ?? {}
}

/**
 * Defines a plugin. Export the result as the module's default export, next to its `options`.
 *
 * @example
 * export const options = Type.Object({ greeting: Type.String({ default: 'hello' }) })
 * const Hello = Type.Object({ name: Type.String() })
 * export default definePlugin({
 *   name: 'hello',
 *   options,
 *   events: { client: { hello: { payload: Hello, ack: Type.Object({ text: Type.String() }) } } },
 *   setup (app, opts) {
 *     app.realtime.namespace('/').handle('hello', Hello, (ctx, { name }) => ({ text: `${opts.greeting} ${name}` }))
 *   }
 * })
 */
export function definePlugin<S extends TSchema, const N extends string> (definition: PluginDefinition<S, N>): RealtimePlugin<S, N> {
  const { name } = definition
  const dependencies = definition.dependencies ?? []
  async function realtimePlugin (fastify: FastifyInstance, options: Static<S>): Promise<void> {
    const core = (fastify as unknown as Record<symbol, Core | undefined>)[kCore]
    if (core === undefined) throw new PluginInvalid(`${name}: load it through the server's config (buildApp), not with fastify.register`)
    await fastify.register(async (child) => {
      const catalog = catalogOf(definition, options)
      const { api, handled, namespaces } = createPluginApi<N>(core, name, dependencies, child, forwardedEvents(catalog))
      child.decorate('realtime', api)
      await definition.setup(child.withTypeProvider<TypeBoxTypeProvider>() as PluginApp<N>, options)
      checkCatalog(name, catalog, handled)
      checkEventLimits(name, core.config.plugins[name], catalog)
      recordContract(core, { plugin: name, catalog, handled, namespaces: [...namespaces] })
    }, { prefix: `/api/${name}` })
  }
  const plugin = fp(realtimePlugin, { name, fastify: '5.x', dependencies })
  return Object.assign(plugin, { definition })
}
