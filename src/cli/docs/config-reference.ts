// Generates docs/config-reference.md from the root config schema and the plugins' option schemas.
import type { PluginSchema } from './config-schema.js'
import { envBindings } from '../../config/env.js'
import { ServerConfig } from '../../config/schema.js'

type Json = Record<string, any>

const typeOf = (s: Json): string => {
  if (s.enum !== undefined) return s.enum.map((v: unknown) => `\`${String(v)}\``).join(' \\| ')
  if (s.const !== undefined) return `\`${String(s.const)}\``
  if (s.anyOf !== undefined) return s.anyOf.map(typeOf).join(' \\| ')
  if (s.type === 'array') return `${typeOf(s.items ?? {})}[]`
  return s.type ?? 'any'
}

const cell = (v: unknown): string => (v === undefined ? '' : `\`${JSON.stringify(v)}\``)
const text = (s: string | undefined): string => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')

function rows (schema: Json, path: string, out: string[]): void {
  const props = schema.properties as Record<string, Json> | undefined
  if (props === undefined) return
  for (const [key, s] of Object.entries(props)) {
    if (key === '$schema') continue
    const p = path === '' ? key : `${path}.${key}`
    const nested = s.type === 'object' && s.properties !== undefined && Object.keys(s.properties).length > 0
    if (nested) {
      rows(s, p, out)
    } else {
      const env = typeof s['x-env'] === 'string' ? ` Env: \`${s['x-env'] as string}\`.` : ''
      out.push(`| \`${p}\` | ${typeOf(s)} | ${cell(s.default)} | ${text(s.description)}${env} |`)
    }
  }
}

const table = (schema: Json, path: string): string => {
  const out = ['| key | type | default | description |', '| --- | --- | --- | --- |']
  rows(schema, path, out)
  return out.join('\n')
}

/** The configuration reference (docs/config-reference.md), generated from the TypeBox sources. */
export function configReference (plugins: readonly PluginSchema[]): string {
  const root = JSON.parse(JSON.stringify(ServerConfig)) as Json
  delete root.properties.plugins
  const parts = [
    '# Configuration reference',
    '',
    'Generated from the TypeBox schemas by `npm run generate` (a test fails when it drifts). How to',
    'write a config file, and the environment overrides, are in [configuration.md](configuration.md).',
    '',
    '## Server',
    '',
    table(root, ''),
    '',
    '## Environment variables',
    '',
    'Declared on the schema keys they set (`x-env`); a value from the environment wins over the file, is validated like it,',
    'and an error about it names the variable.',
    '',
    '| variable | key |',
    '| --- | --- |',
    ...envBindings(ServerConfig).map((b) => `| \`${b.name}\` | \`${b.path.join('.')}\` |`),
    '',
    '## Plugins',
    '',
    'Every entry of `plugins` takes `enabled` (default `true`), `from` (a path or package name, for plugins',
    'that are not built in) and `options`, validated by the plugin\'s own schema:',
    ''
  ]
  for (const p of [...plugins].sort((a, b) => a.name.localeCompare(b.name))) {
    parts.push(`### ${p.name}`, '', table(JSON.parse(JSON.stringify(p.options)) as Json, `plugins.${p.name}.options`), '')
  }
  return parts.join('\n')
}
