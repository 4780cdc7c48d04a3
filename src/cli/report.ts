// How the command line says what went wrong: each problem on a line, pointing at the file, line and column (or the variable).
import type { LoadedConfig } from '../config/load.js'
import { isCatalogError } from '../lib/errors.js'
import type { Problem } from '../lib/validation.js'

/** Exit codes (sysexits.h): a usage error, a configuration error; 1 for anything else. */
export const EX_USAGE = 64
export const EX_CONFIG = 78

/** A plugin's own option error: `Invalid <plugin> options: <detail>` (the plugins' `RT_<PLUGIN>_CONFIG` errors). */
const PLUGIN_OPTIONS = /^Invalid ([a-z0-9][a-z0-9-]*) options: ([\s\S]*)$/
/** A detail that starts with the option it is about: `websocket.path: ...`, `matrix.order:created.namespace: ...`. */
const LEADING_FIELD = /^([A-Za-z0-9_$][\w$:-]*(?:\.[\w$:-]+)*): /

/** The message without the catalog's "Invalid configuration: " prefix: the lines say where, the code says what. */
const bare = (message: string): string => message.replace(/^Invalid configuration: /, '')

/**
 * The lines that describe an error of loading or building, each naming where the user wrote the key when a
 * config file was loaded: `config/x.json:12:5 plugins.presence.options.online.1.namespace: must match ...`.
 */
export function describe (err: unknown, loaded?: LoadedConfig): string[] {
  if (!(err instanceof Error)) return [String(err)]
  const problems = (err as Error & { problems?: Problem[] }).problems
  if (loaded !== undefined && Array.isArray(problems)) {
    return problems.map((p) => `${loaded.where(p.field)} ${p.field}: ${p.message}`)
  }
  const plugin = PLUGIN_OPTIONS.exec(err.message)
  if (loaded !== undefined && plugin !== null && loaded.config.plugins[plugin[1]!] !== undefined) {
    const root = `plugins.${plugin[1]}.options`
    const at = (detail: string): string => {
      const field = LEADING_FIELD.exec(detail)
      if (field === null) return `${loaded.where(root)} ${root}: ${detail}`
      const full = `${root}.${field[1]}`
      return `${loaded.where(full)} ${full}: ${detail.slice(field[0].length)}`
    }
    // One line per problem when the plugin gave several ("; " between them), each at the option it names.
    const pieces = plugin[2]!.split('; ')
    return pieces.length > 1 && pieces.every((p) => LEADING_FIELD.test(p)) ? pieces.map(at) : [at(plugin[2]!)]
  }
  if (isCatalogError(err)) return bare(err.message).split('\n')
  return [err.stack ?? err.message]
}

/** Whether an error of loading or building is the configuration's (78) rather than anything else's (1). */
export function isConfigError (err: unknown): boolean {
  return isCatalogError(err) && err.statusCode === 500
}
