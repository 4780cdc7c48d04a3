import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, RawServerDefault } from 'fastify'
import fp from 'fastify-plugin'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Static, TSchema } from 'typebox'
import { kCore, type Core } from '../core.js'
import { PluginInvalid } from '../../lib/errors.js'
import { createPluginApi } from './api.js'

/** The Fastify instance a plugin sets up: its own encapsulated context, routes prefixed with `/api/<name>`, `app.realtime` decorated. */
export type PluginApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** Event payload schemas of a plugin, by event name: what clients send, and what the server emits. */
export interface EventCatalog {
  client?: Record<string, TSchema>
  server?: Record<string, TSchema>
}

export interface PluginDefinition<S extends TSchema> {
  /** Unique name, also the plugin's key in the config's `plugins` and the route prefix `/api/<name>`. */
  name: string
  /** Plugins that must load first; their `provide()`d values are reachable with `realtime.use()`. */
  dependencies?: string[]
  /** TypeBox schema of the options, with `default` and `description` on each property. */
  options: S
  /** Payload schemas of the plugin's events (documentation and tests; handlers validate with their own). */
  events?: EventCatalog
  /** Declares namespaces, handlers, hooks and routes; runs once at start-up with validated options. */
  setup (app: PluginApp, options: Static<S>): Promise<void> | void
}

/** What `definePlugin` returns: a fastify-plugin-wrapped function carrying its definition. */
export type RealtimePlugin<S extends TSchema = TSchema> = FastifyPluginAsync<any> & {
  readonly definition: PluginDefinition<S>
}

/**
 * Defines a plugin. Export the result as the module's default export, next to its `options` and `events`.
 *
 * @example
 * export const options = Type.Object({ greeting: Type.String({ default: 'hello' }) })
 * export default definePlugin({
 *   name: 'hello',
 *   options,
 *   setup (app, opts) {
 *     app.realtime.namespace('/').handle('hello', Type.Object({ name: Type.String() }), (ctx, { name }) => ({ text: `${opts.greeting} ${name}` }))
 *   }
 * })
 */
export function definePlugin<S extends TSchema> (definition: PluginDefinition<S>): RealtimePlugin<S> {
  const { name } = definition
  const dependencies = definition.dependencies ?? []
  async function realtimePlugin (fastify: FastifyInstance, options: Static<S>): Promise<void> {
    const core = (fastify as unknown as Record<symbol, Core | undefined>)[kCore]
    if (core === undefined) throw new PluginInvalid(`${name}: load it through the server's config (buildApp), not with fastify.register`)
    await fastify.register(async (child) => {
      child.decorate('realtime', createPluginApi(core, name, dependencies, child))
      await definition.setup(child.withTypeProvider<TypeBoxTypeProvider>(), options)
    }, { prefix: `/api/${name}` })
  }
  const plugin = fp(realtimePlugin, { name, fastify: '5.x', dependencies })
  return Object.assign(plugin, { definition }) as unknown as RealtimePlugin<S>
}
