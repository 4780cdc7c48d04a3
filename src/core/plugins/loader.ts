// The plugin loader: finds each enabled plugin (built-in, path or package), validates its options, orders by dependencies.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { TSchema } from 'typebox'
import type { PluginEntry } from '../../config/schema.js'
import { ConfigInvalid, PluginDependency, PluginInvalid, PluginNotFound } from '../../lib/errors.js'
import { compile, formatProblem, withDefaults } from '../../lib/validation.js'
import type { RealtimePlugin } from './define.js'

/** A plugin ready to register: its function, validated options, and where it came from. */
export interface LoadedPlugin {
  readonly name: string
  readonly plugin: RealtimePlugin
  readonly options: Record<string, unknown>
  readonly optionsSchema: TSchema
  readonly dependencies: readonly string[]
  readonly source: string
}

/** Where the built-in plugins live: `plugins/` next to `src/` (or `dist/plugins` when compiled). */
export const builtinDir = fileURLToPath(new URL('../../../plugins/', import.meta.url))

/** Names of the built-in plugins: the folders of `plugins/` that hold an index module. */
export function builtinNames (): string[] {
  if (!existsSync(builtinDir)) return []
  return readdirSync(builtinDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && indexFile(join(builtinDir, d.name)) !== undefined)
    .map((d) => d.name)
    .sort()
}

const indexFile = (dir: string): string | undefined =>
  ['index.js', 'index.ts'].map((f) => join(dir, f)).find((f) => existsSync(f))

/** Resolves an entry to a module URL: a built-in name, a path (relative to `baseDir`), or a package name. */
function locate (name: string, entry: PluginEntry, baseDir: string): string {
  const from = entry.from
  if (from === undefined) {
    const file = indexFile(join(builtinDir, name))
    if (file === undefined) {
      throw new PluginNotFound(`"${name}": not a built-in plugin (built-in: ${builtinNames().join(', ')}); to load another one set plugins.${name}.from to a path or package name`)
    }
    return pathToFileURL(file).href
  }
  if (from.startsWith('.') || isAbsolute(from)) {
    const path = isAbsolute(from) ? from : resolve(baseDir, from)
    const file = existsSync(path) && statSync(path).isDirectory() ? indexFile(path) : existsSync(path) ? path : undefined
    if (file === undefined) throw new PluginNotFound(`"${name}": nothing to load at ${path} (plugins.${name}.from)`)
    return pathToFileURL(file).href
  }
  try {
    return pathToFileURL(createRequire(join(baseDir, 'package.json')).resolve(from)).href
  } catch {
    try {
      return import.meta.resolve(from)
    } catch {
      throw new PluginNotFound(`"${name}": package "${from}" is not installed (plugins.${name}.from)`)
    }
  }
}

const isPlugin = (v: unknown): v is RealtimePlugin =>
  typeof v === 'function' && typeof (v as unknown as Record<symbol, { name?: unknown } | undefined>)[Symbol.for('plugin-meta')]?.name === 'string'

async function loadOne (name: string, entry: PluginEntry, baseDir: string): Promise<LoadedPlugin> {
  const url = locate(name, entry, baseDir)
  let mod: Record<string, unknown>
  try {
    mod = await import(url) as Record<string, unknown>
  } catch (err) {
    // Node 20 does not run TypeScript: say what to do rather than only `Unknown file extension ".ts"`.
    const hint = (err as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION' && url.endsWith('.ts')
      ? `; compile the plugin (tsc) and point plugins.${name}.from at the compiled .js (docs/writing-plugins.md, "Depending on realtime-server")`
      : ''
    throw new PluginInvalid(`"${name}": cannot import ${fileURLToPath(url)}: ${(err as Error).message}${hint}`)
  }
  const plugin = mod.default
  if (!isPlugin(plugin)) throw new PluginInvalid(`"${name}": the default export of ${fileURLToPath(url)} is not a plugin made with definePlugin()`)
  const meta = (plugin as unknown as Record<symbol, { name: string, dependencies?: string[] }>)[Symbol.for('plugin-meta')]!
  if (meta.name !== name) throw new PluginInvalid(`"${name}": the module declares the name "${meta.name}"; use that name as its key in plugins`)
  const optionsSchema = (mod.options ?? plugin.definition?.options) as TSchema | undefined
  if (optionsSchema === undefined || typeof optionsSchema !== 'object') throw new PluginInvalid(`"${name}": the module does not export its options schema as \`options\``)
  return {
    name,
    plugin,
    options: validateOptions(name, optionsSchema, entry.options),
    optionsSchema,
    dependencies: meta.dependencies ?? [],
    source: fileURLToPath(url)
  }
}

/** Applies the schema's defaults and validates; the error names `plugins.<name>.options.<field>`. */
export function validateOptions (name: string, schema: TSchema, raw: unknown): Record<string, unknown> {
  let value: Record<string, unknown>
  try {
    value = withDefaults(schema, structuredClone(raw ?? {})) as Record<string, unknown>
  } catch (err) {
    throw new ConfigInvalid(`plugins.${name}.options: ${(err as Error).message}`)
  }
  // Options are the operator's own: every error is gathered, so that a union is explained by its key.
  const problems = compile(schema, { maxErrors: 256 }).problems(value)
  if (problems.length > 0) {
    const root = `plugins.${name}.options`
    const named = problems.slice(0, 3).map((p) => ({ field: p.field === '' ? root : `${root}.${p.field}`, message: p.message }))
    // `problems` for the command line, which names the file, line and column of each.
    throw Object.assign(new ConfigInvalid(named.map((p) => formatProblem(p)).join('; ')), { problems: named })
  }
  return value
}

/** Orders plugins so each comes after its dependencies (config order otherwise); a missing one or a cycle is an error. */
export function orderByDependencies<P extends { name: string, dependencies: readonly string[] }> (plugins: P[]): P[] {
  const byName = new Map(plugins.map((p) => [p.name, p]))
  for (const p of plugins) {
    for (const d of p.dependencies) {
      if (!byName.has(d)) throw new PluginDependency(`"${p.name}" depends on "${d}", which is not enabled in plugins`)
    }
  }
  const ordered: P[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (p: P, path: string[]): void => {
    const s = state.get(p.name)
    if (s === 'done') return
    if (s === 'visiting') throw new PluginDependency(`dependency cycle: ${[...path.slice(path.indexOf(p.name)), p.name].join(' -> ')}`)
    state.set(p.name, 'visiting')
    for (const d of p.dependencies) visit(byName.get(d)!, [...path, p.name])
    state.set(p.name, 'done')
    ordered.push(p)
  }
  for (const p of plugins) visit(p, [])
  return ordered
}

/** Imports, validates and orders the enabled plugins of the config. */
export async function loadPlugins (entries: Record<string, PluginEntry>, baseDir: string): Promise<LoadedPlugin[]> {
  const enabled = Object.entries(entries).filter(([, e]) => e.enabled)
  const loaded = await Promise.all(enabled.map(async ([name, entry]) => await loadOne(name, entry, baseDir)))
  return orderByDependencies(loaded)
}
