/** `npm run config:check -- --config <file>`: validates a config file and its plugins' options without starting. */
import { loadConfig } from '../config/load.js'
import { loadPlugins } from '../core/plugins/loader.js'

try {
  const { config, source, baseDir, warnings } = loadConfig(process.argv.slice(2), process.env)
  const plugins = await loadPlugins(config.plugins, baseDir)
  for (const w of warnings) process.stdout.write(`warning ${w.code}: ${w.message} ${w.fix}\n`)
  process.stdout.write(`${source}: valid (plugins: ${plugins.map((p) => p.name).join(', ') || 'none'})\n`)
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exitCode = 1
}
