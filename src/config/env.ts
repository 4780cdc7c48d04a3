// Environment overrides, declared on the config schema (`x-env`) and applied before validation.
import type { TSchema } from 'typebox'
import { ConfigInvalid } from '../lib/errors.js'

/**
 * How an environment value becomes a config value, when the key's JSON type is not enough:
 * - `list`: comma-separated strings;
 * - `api-keys`: comma-separated API keys, `key@tenant` binding a key to a tenant;
 * - `pem`: a PEM text in which a literal `\n` stands for a newline (one-line env values).
 */
export type EnvFormat = 'list' | 'api-keys' | 'pem'

/** Schema options that bind a config key to an environment variable (spread into the TypeBox options). */
export function fromEnv (name: string, format?: EnvFormat): { 'x-env': string, 'x-env-format'?: EnvFormat } {
  return format === undefined ? { 'x-env': name } : { 'x-env': name, 'x-env-format': format }
}

/** A config key bound to an environment variable. */
export interface EnvBinding {
  readonly name: string
  /** The key's JSON path segments, e.g. ['server', 'port']. */
  readonly path: readonly string[]
  readonly schema: Readonly<Record<string, any>>
}

/** Every binding declared in `schema`, in schema order. */
export function envBindings (schema: TSchema): EnvBinding[] {
  const out: EnvBinding[] = []
  const walk = (s: Record<string, any>, path: string[]): void => {
    if (typeof s['x-env'] === 'string') out.push({ name: s['x-env'], path, schema: s })
    for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, Record<string, any>>)) walk(child, [...path, key])
  }
  walk(schema as Record<string, any>, [])
  return out
}

/** The JWT key settings: one given in the environment replaces whichever the file has. */
const JWT_KEYS = new Set(['auth.jwt.secret', 'auth.jwt.publicKey', 'auth.jwt.jwksUrl'])

function parse (binding: EnvBinding, value: string): unknown {
  const { name, schema } = binding
  switch (schema['x-env-format'] as EnvFormat | undefined) {
    case 'list': return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
    case 'api-keys':
      return value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
        const at = s.lastIndexOf('@')
        return at > 0 ? { key: s.slice(0, at), tenantId: s.slice(at + 1) } : s
      })
    case 'pem': return value.replace(/\\n/g, '\n')
  }
  if (schema.type === 'integer') {
    if (!/^-?\d+$/.test(value)) throw new ConfigInvalid(`${name}: must be an integer, got "${value}"`)
    return Number(value)
  }
  if (schema.type === 'number') {
    if (value.trim() === '' || !Number.isFinite(Number(value))) throw new ConfigInvalid(`${name}: must be a number, got "${value}"`)
    return Number(value)
  }
  if (schema.type === 'boolean') {
    if (value !== 'true' && value !== 'false') throw new ConfigInvalid(`${name}: must be true or false, got "${value}"`)
    return value === 'true'
  }
  return value
}

/**
 * Writes the values of the bound environment variables that are set (and not empty) into `raw`, so that they are
 * validated with the rest. Returns the JSON path of each key taken from the environment, with its variable's name,
 * so that errors name the variable rather than the file.
 */
export function applyEnv (schema: TSchema, raw: Record<string, any>, env: Record<string, string | undefined>): Map<string, string> {
  const taken = new Map<string, string>()
  const bindings = envBindings(schema).filter((b) => env[b.name] !== undefined && env[b.name] !== '')
  if (bindings.some((b) => JWT_KEYS.has(b.path.join('.')))) {
    const jwt = (raw.auth ??= {}).jwt ??= {}
    for (const key of JWT_KEYS) delete jwt[key.split('.').pop()!]
  }
  for (const b of bindings) {
    let o = raw
    for (const k of b.path.slice(0, -1)) o = (o[k] ??= {})
    o[b.path[b.path.length - 1]!] = parse(b, env[b.name]!)
    taken.set(b.path.join('.'), b.name)
  }
  return taken
}

/** `field` as an error names it: the variable first when the value came from the environment. */
export function sourceOf (field: string, taken: ReadonlyMap<string, string>): string {
  for (const [path, name] of taken) {
    if (field === path || field.startsWith(`${path}.`)) return `${name} (${field})`
  }
  return field
}
