// Loads the config: embedded defaults, the file (`--config` or CONFIG), environment variables, validation.
import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { ConfigInvalid } from '../lib/errors.js'
import { packageRoot } from '../lib/package-root.js'
import { compile, formatProblem, withDefaults } from '../lib/validation.js'
import { DevApiKey, DevJwtSecret, DevLoopback, type StartupWarning } from '../lib/warnings.js'
import { applyEnv, sourceOf } from './env.js'
import { JsonPositions, syntaxError } from './position.js'
import { ServerConfig } from './schema.js'

/** The embedded defaults: `config/default.json` at the package root. */
export const defaultConfigFile = resolve(packageRoot, 'config', 'default.json')

/** Used when no key is configured outside production, with a loud warning. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me'
export const DEVELOPMENT_API_KEY = 'development-only-api-key'

export interface LoadedConfig {
  readonly config: Readonly<ServerConfig>
  /** Directory that relative plugin paths are resolved from. */
  readonly baseDir: string
  /** Where the config came from, for messages. */
  readonly source: string
  /** `NODE_ENV=production`: development keys are refused, and plugins may refuse development-only options. */
  readonly production: boolean
  /** Things the operator should know (development defaults in use), with their codes. */
  readonly warnings: readonly StartupWarning[]
  /**
   * Where a config key is written, for messages: `config/x.json:12:5` when the file writes it (or its nearest
   * ancestor), `config/x.json:` otherwise.
   */
  readonly where: (field: string) => string
  /** The keys the file writes (JSON paths with dots), to tell what the user wrote from defaults. */
  readonly written: (field: string) => boolean
}

type Env = Record<string, string | undefined>

/** A config is the operator's own: every error is gathered, for the clearest explanation. */
export const CONFIG_MAX_ERRORS = 256
const validator = compile(ServerConfig, { maxErrors: CONFIG_MAX_ERRORS })

/** `--config <path>` or `--config=<path>` from argv, else `CONFIG`. */
export function configPath (argv: readonly string[], env: Env): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--config') return argv[i + 1]
    if (a.startsWith('--config=')) return a.slice('--config='.length)
  }
  return env.CONFIG !== undefined && env.CONFIG !== '' ? env.CONFIG : undefined
}

/** Reads and resolves the config named by argv/env, or the embedded defaults. */
export function loadConfig (argv: readonly string[] = process.argv.slice(2), env: Env = process.env): LoadedConfig {
  return loadConfigFile(configPath(argv, env), env)
}

/** A file's name as messages show it: relative to the working directory when it is below it. */
export function displayName (file: string): string {
  const rel = relative(process.cwd(), file)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

/** Reads and resolves `path` (the embedded defaults when undefined). Errors name the file, line and column. */
export function loadConfigFile (path: string | undefined, env: Env = process.env): LoadedConfig {
  const file = resolve(path ?? defaultConfigFile)
  const name = displayName(file)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigInvalid(`cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    const { position, reason } = syntaxError(text, err as Error)
    throw new ConfigInvalid(`${name}:${position.line}:${position.column} is not valid JSON: ${reason}`)
  }
  return resolveConfig(raw, { env, source: file, baseDir: dirname(file), positions: new JsonPositions(text) })
}

const deepFreeze = <T>(o: T): T => {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o)) deepFreeze(v)
  }
  return o
}

/**
 * file + env -> defaults -> validate -> freeze. Every problem names its JSON path. Plugin options are
 * validated later by each plugin's own schema (see the plugin loader).
 */
export function resolveConfig (input: unknown, options: { env?: Env, source?: string, baseDir?: string, positions?: JsonPositions } = {}): LoadedConfig {
  const env = options.env ?? {}
  const source = options.source ?? 'config'
  const name = options.source === undefined ? source : displayName(source)
  const positions = options.positions
  const where = (field: string): string => {
    const found = positions?.find(field)
    return found === undefined ? `${name}:` : `${name}:${found.position.line}:${found.position.column}`
  }
  const written = (field: string): boolean => positions?.has(field) ?? false
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ConfigInvalid(`${name}: must be a JSON object`)
  const raw = structuredClone(input) as Record<string, any>
  const taken = applyEnv(ServerConfig, raw, env)
  const hostGiven = raw.server?.host !== undefined
  // Defaults inside record values too (each `plugins` entry gets its own).
  const config = withDefaults(ServerConfig, raw) as ServerConfig
  const problems = validator.problems(config)
  if (problems.length > 0) {
    // A variable's problem names the variable, not the file; each of the file's names its line and column.
    const fromEnv = problems.find((p) => sourceOf(p.field, taken) !== p.field)
    if (fromEnv !== undefined) throw new ConfigInvalid(formatProblem({ ...fromEnv, field: sourceOf(fromEnv.field, taken) }))
    // The most specific three, in the order of the file.
    const at = (p: { field: string }): number => { const f = positions?.find(p.field); return f === undefined ? 0 : f.position.line * 1e6 + f.position.column }
    const shown = problems.slice(0, 3).sort((a, b) => at(a) - at(b))
    throw new ConfigInvalid(shown.map((p) => `${where(p.field)} ${formatProblem(p, '(root)')}`).join('\n'))
  }
  const warnings = checkSemantics(config, env, { name, where, taken, hostGiven })
  return { config: deepFreeze(config), baseDir: options.baseDir ?? process.cwd(), source, warnings, production: env.NODE_ENV === 'production', where, written }
}

const HMAC = /^HS/
const ALGORITHM_KEY_TYPE: Record<string, string> = { RS: 'rsa', PS: 'rsa', ES: 'ec' }

/** Rules a schema cannot express: one key kind, algorithms that fit it, no development keys in production. */
function checkSemantics (config: ServerConfig, env: Env, context: { name: string, where: (field: string) => string, taken: ReadonlyMap<string, string>, hostGiven: boolean }): StartupWarning[] {
  const { taken } = context
  // The file's problems name the file, the line and column of the key; the environment's name the variable.
  const at = (field: string): string => {
    const variable = sourceOf(field, taken)
    return variable !== field ? variable : `${context.where(field)} ${field}`
  }
  const warnings: StartupWarning[] = []
  const jwt = config.auth.jwt
  const kinds = (['secret', 'publicKey', 'jwksUrl'] as const).filter((k) => jwt[k] !== undefined)
  if (kinds.length > 1) throw new ConfigInvalid(`${at('auth.jwt')}: set only one of secret, publicKey, jwksUrl (found ${kinds.join(', ')})`)
  const production = env.NODE_ENV === 'production'
  if (kinds.length === 0) {
    if (production) throw new ConfigInvalid(`${context.name}: auth.jwt: no key configured; set JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL (NODE_ENV=production refuses the development secret)`)
    jwt.secret = DEVELOPMENT_JWT_SECRET
    warnings.push(DevJwtSecret(DEVELOPMENT_JWT_SECRET))
    // Anyone who can reach the port can mint tokens with the development secret: only this machine, unless asked.
    if (!context.hostGiven) {
      config.server.host = '127.0.0.1'
      warnings.push(DevLoopback())
    }
  }
  let keyType: string | undefined
  if (jwt.publicKey !== undefined) {
    try {
      keyType = createPublicKey(jwt.publicKey).asymmetricKeyType
    } catch {
      throw new ConfigInvalid(`${at('auth.jwt.publicKey')}: not a PEM public key`)
    }
  }
  if (jwt.algorithms !== undefined) {
    const symmetric = jwt.secret !== undefined
    const fits = (a: string): boolean => symmetric
      ? HMAC.test(a)
      : !HMAC.test(a) && (keyType === undefined || ALGORITHM_KEY_TYPE[a.slice(0, 2)] === keyType || (a === 'EdDSA' && keyType.startsWith('ed')))
    const wrong = jwt.algorithms.filter((a) => !fits(a))
    if (wrong.length > 0) {
      throw new ConfigInvalid(`${at('auth.jwt.algorithms')}: ${wrong.join(', ')} cannot be used with ${symmetric ? 'a shared secret' : keyType !== undefined ? `this ${keyType} public key` : 'JWKS keys'}`)
    }
  }
  if (config.auth.apiKeys.length === 0 && !production) {
    config.auth.apiKeys.push({ key: DEVELOPMENT_API_KEY, name: 'development' })
    warnings.push(DevApiKey(DEVELOPMENT_API_KEY))
  }
  const seen = new Set<string>()
  for (const k of config.auth.apiKeys) {
    const key = typeof k === 'string' ? k : k.key
    if (seen.has(key)) throw new ConfigInvalid(`${at('auth.apiKeys')}: a key is listed twice`)
    seen.add(key)
  }
  const metrics = config.metrics
  if (metrics.port !== undefined && metrics.port !== 0 && metrics.port === config.server.port) {
    throw new ConfigInvalid(`${at('metrics.port')}: must differ from server.port (${config.server.port}); to serve /metrics on the main port, set metrics.token (METRICS_TOKEN) instead`)
  }
  return warnings
}
