// `realtime-server check`: every check `start` makes (config, environment, plugins' options and set-up), without a port.
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { describe, EX_CONFIG, isConfigError } from './report.js'
import { buildChecked } from './start.js'

type Env = Record<string, string | undefined>

/**
 * Loads the config and builds the app as `start` does, without listening and without connecting Redis, then
 * closes it. Prints the warnings and `<file>: valid (plugins: ...)` on stdout, or the problems on stderr.
 * Resolves with the exit code: 0, 78 (a configuration error) or 1.
 */
export async function check (file: string | undefined, env: Env = process.env): Promise<number> {
  let loaded: LoadedConfig | undefined
  try {
    loaded = loadConfigFile(file, env)
    const { app, warnings } = await buildChecked(loaded, { offline: true })
    await app.close()
    for (const w of warnings) process.stdout.write(`warning ${w.code}: ${w.message} ${w.fix}\n`)
    const plugins = Object.keys(loaded.config.plugins).filter((n) => loaded!.config.plugins[n]!.enabled)
    process.stdout.write(`${loaded.where('').replace(/:$/, '')}: valid (plugins: ${plugins.join(', ') || 'none'})\n`)
    return 0
  } catch (err) {
    process.stderr.write(describe(err, loaded).map((l) => `${l}\n`).join(''))
    return isConfigError(err) ? EX_CONFIG : 1
  }
}
