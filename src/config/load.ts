// Loads the config: embedded defaults, the file (`--config` or CONFIG), environment variables, validation.
import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ConfigInvalid } from '../lib/errors.js'
import { packageRoot } from '../lib/package-root.js'
import { compile, formatProblem, withDefaults } from '../lib/validation.js'
import { DevApiKey, DevJwtSecret, type StartupWarning } from '../lib/warnings.js'
import { applyEnv, sourceOf } from './env.js'
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
}

type Env = Record<string, string | undefined>

const validator = compile(ServerConfig)

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
  const file = resolve(configPath(argv, env) ?? defaultConfigFile)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigInvalid(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigInvalid(`${file} is not valid JSON: ${(err as Error).message}`)
  }
  return resolveConfig(raw, { env, source: file, baseDir: dirname(file) })
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
export function resolveConfig (input: unknown, options: { env?: Env, source?: string, baseDir?: string } = {}): LoadedConfig {
  const env = options.env ?? {}
  const source = options.source ?? 'config'
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ConfigInvalid(`${source}: must be a JSON object`)
  const raw = structuredClone(input) as Record<string, any>
  const taken = applyEnv(ServerConfig, raw, env)
  // Defaults inside record values too (each `plugins` entry gets its own).
  const config = withDefaults(ServerConfig, raw) as ServerConfig
  const problems = validator.problems(config)
  if (problems.length > 0) {
    const fromEnv = problems.find((p) => sourceOf(p.field, taken) !== p.field)
    if (fromEnv !== undefined) throw new ConfigInvalid(formatProblem({ ...fromEnv, field: sourceOf(fromEnv.field, taken) }))
    throw new ConfigInvalid(`${source}: ${problems.slice(0, 3).map((p) => formatProblem(p, '(root)')).join('; ')}`)
  }
  const warnings = checkSemantics(config, env, source, taken)
  return { config: deepFreeze(config), baseDir: options.baseDir ?? process.cwd(), source, warnings, production: env.NODE_ENV === 'production' }
}

const HMAC = /^HS/
const ALGORITHM_KEY_TYPE: Record<string, string> = { RS: 'rsa', PS: 'rsa', ES: 'ec' }

/** Rules a schema cannot express: one key kind, algorithms that fit it, no development keys in production. */
function checkSemantics (config: ServerConfig, env: Env, source: string, taken: ReadonlyMap<string, string>): StartupWarning[] {
  const warnings: StartupWarning[] = []
  const jwt = config.auth.jwt
  const kinds = (['secret', 'publicKey', 'jwksUrl'] as const).filter((k) => jwt[k] !== undefined)
  if (kinds.length > 1) throw new ConfigInvalid(`${source}: auth.jwt: set only one of secret, publicKey, jwksUrl (found ${kinds.join(', ')})`)
  const production = env.NODE_ENV === 'production'
  if (kinds.length === 0) {
    if (production) throw new ConfigInvalid(`${source}: auth.jwt: no key configured; set JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL (NODE_ENV=production refuses the development secret)`)
    jwt.secret = DEVELOPMENT_JWT_SECRET
    warnings.push(DevJwtSecret(DEVELOPMENT_JWT_SECRET))
  }
  let keyType: string | undefined
  if (jwt.publicKey !== undefined) {
    try {
      keyType = createPublicKey(jwt.publicKey).asymmetricKeyType
    } catch {
      const where = sourceOf('auth.jwt.publicKey', taken)
      throw new ConfigInvalid(where === 'auth.jwt.publicKey' ? `${source}: auth.jwt.publicKey: not a PEM public key` : `${where}: not a PEM public key`)
    }
  }
  if (jwt.algorithms !== undefined) {
    const symmetric = jwt.secret !== undefined
    const fits = (a: string): boolean => symmetric
      ? HMAC.test(a)
      : !HMAC.test(a) && (keyType === undefined || ALGORITHM_KEY_TYPE[a.slice(0, 2)] === keyType || (a === 'EdDSA' && keyType.startsWith('ed')))
    const wrong = jwt.algorithms.filter((a) => !fits(a))
    if (wrong.length > 0) {
      throw new ConfigInvalid(`${source}: auth.jwt.algorithms: ${wrong.join(', ')} cannot be used with ${symmetric ? 'a shared secret' : keyType !== undefined ? `this ${keyType} public key` : 'JWKS keys'}`)
    }
  }
  if (config.auth.apiKeys.length === 0 && !production) {
    config.auth.apiKeys.push({ key: DEVELOPMENT_API_KEY, name: 'development' })
    warnings.push(DevApiKey(DEVELOPMENT_API_KEY))
  }
  const seen = new Set<string>()
  for (const k of config.auth.apiKeys) {
    const key = typeof k === 'string' ? k : k.key
    if (seen.has(key)) throw new ConfigInvalid(`${source}: auth.apiKeys: a key is listed twice`)
    seen.add(key)
  }
  const metrics = config.metrics
  if (metrics.port !== undefined && metrics.port !== 0 && metrics.port === config.server.port) {
    throw new ConfigInvalid(`${source}: ${sourceOf('metrics.port', taken)}: must differ from server.port (${config.server.port}); to serve /metrics on the main port, set metrics.token (METRICS_TOKEN) instead`)
  }
  return warnings
}
