// Generates config/schema.json, the JSON Schema editors use to check and complete config files.
import type { TSchema } from 'typebox'
import { PluginEntry, ServerConfig } from '../../config/schema.js'

/** A built-in plugin's name and options schema. */
export interface PluginSchema {
  name: string
  options: TSchema
}

/** TypeBox schemas are JSON Schema; this strips TypeBox's non-enumerable markers by round-tripping through JSON. */
const plain = (schema: unknown): Record<string, any> => JSON.parse(JSON.stringify(schema)) as Record<string, any>

/**
 * The JSON Schema of config files (config/schema.json), generated from the same TypeBox sources that
 * validate at start-up: the root schema, and under `plugins` each built-in plugin's options schema.
 */
export function buildJsonSchema (plugins: readonly PluginSchema[]): Record<string, unknown> {
  const root = plain(ServerConfig)
  const entry = plain(PluginEntry)
  const properties: Record<string, unknown> = {}
  for (const p of [...plugins].sort((a, b) => a.name.localeCompare(b.name))) {
    properties[p.name] = { ...entry, properties: { ...entry.properties, options: { ...plain(p.options), default: {} } } }
  }
  root.properties.$schema = { type: 'string' }
  root.properties.plugins = {
    type: 'object',
    description: root.properties.plugins.description,
    default: {},
    properties,
    additionalProperties: entry
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/realtime-server/realtime-server/config/schema.json',
    title: 'realtime-server configuration',
    ...root
  }
}
