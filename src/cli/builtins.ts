// The built-in plugins with their options schemas, for the CLI and the doc generators.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { TSchema } from 'typebox'
import type { PluginSchema } from './docs/config-schema.js'
import { builtinDir, builtinNames } from '../core/plugins/loader.js'

/** Imports every built-in plugin for its options schema. */
export async function builtinSchemas (): Promise<PluginSchema[]> {
  const out: PluginSchema[] = []
  for (const name of builtinNames()) {
    const file = ['index.js', 'index.ts'].map((f) => join(builtinDir, name, f)).find((f) => existsSync(f))!
    const mod = await import(pathToFileURL(file).href) as { options: TSchema }
    out.push({ name, options: mod.options })
  }
  return out
}
