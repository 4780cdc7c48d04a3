// The `realtime-server` command: parses the command line strictly and runs one command.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { TSchema } from 'typebox'
import type { ServerConfig } from '../config/schema.js'
import { packageRoot } from '../lib/package-root.js'
import { EX_CONFIG, EX_USAGE } from './report.js'
import { COMMANDS, configFile, HELP, parseCommand, PROGRAM, UsageError } from './usage.js'

// The commands' modules are imported when they run: `--help` and `--version` answer without loading the server.
const CONTRACT_KINDS = ['openapi', 'asyncapi', 'client-types']

type Env = Record<string, string | undefined>

const out = (text: string): void => { process.stdout.write(text) }
const err = (text: string): void => { process.stderr.write(text) }

export function version (): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version
}

/** The embedded config with every default filled in, plugin options included. */
async function defaults (): Promise<unknown> {
  const { defaultConfigFile } = await import('../config/load.js')
  const { ServerConfig } = await import('../config/schema.js')
  const { builtinDir } = await import('../core/plugins/loader.js')
  const { withDefaults } = await import('../lib/validation.js')
  const { $schema: _schema, ...raw } = JSON.parse(readFileSync(defaultConfigFile, 'utf8')) as Record<string, unknown>
  const config = withDefaults(ServerConfig, raw) as ServerConfig
  for (const [name, entry] of Object.entries(config.plugins)) {
    if (entry.from !== undefined) continue
    const file = ['index.js', 'index.ts'].map((f) => join(builtinDir, name, f)).find((f) => { try { readFileSync(f); return true } catch { return false } })
    if (file === undefined) continue
    const mod = await import(pathToFileURL(file).href) as { options: TSchema }
    entry.options = withDefaults(mod.options, structuredClone(entry.options ?? {})) as Record<string, unknown>
  }
  return config
}

/**
 * Runs the command line `args` (without `node` and the script). Resolves with the exit code, or undefined when the
 * server was started (the process then lives until it is signalled).
 */
export async function run (args: string[], env: Env = process.env): Promise<number | undefined> {
  let command = args[0]
  try {
    if (command === undefined) {
      err(HELP['']!)
      return EX_USAGE
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      const topic = args[1]
      if (topic !== undefined && HELP[topic] === undefined) throw new UsageError(`unknown command "${topic}"`)
      out(HELP[topic ?? '']!)
      return 0
    }
    if (command === '--version' || command === '-V') {
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`)
      out(`${version()}\n`)
      return 0
    }
    if (COMMANDS[command] === undefined) {
      throw new UsageError(command.startsWith('-') ? `unknown option ${command} (options go after the command)` : `unknown command "${command}"`)
    }
    const { values, positionals } = parseCommand(command, args.slice(1))
    if (values.help === true) {
      out(HELP[command]!)
      return 0
    }
    switch (command) {
      case 'start': {
        const { start } = await import('./start.js')
        await start(configFile(command, values, positionals[0], env), env)
        return undefined
      }
      case 'check': {
        const { check } = await import('./check.js')
        return await check(configFile(command, values, positionals[0], env), env)
      }
      case 'token': {
        if (values.sub === undefined) throw new UsageError('--sub <user id> is required', command)
        const file = configFile(command, values, undefined, env)
        const { mintToken } = await import('./token.js')
        const { loadConfigFile } = await import('../config/load.js')
        const { describe, isConfigError } = await import('./report.js')
        let loaded
        try {
          loaded = loadConfigFile(file, env)
        } catch (e) {
          err(describe(e).map((l) => `${l}\n`).join(''))
          return isConfigError(e) ? EX_CONFIG : 1
        }
        let minted
        try {
          minted = mintToken(loaded, {
            sub: values.sub as string,
            tenant: values.tenant as string | undefined,
            roles: (values.role as string[] | undefined) ?? [],
            claims: (values.claim as string[] | undefined) ?? [],
            expires: values.expires as string
          })
        } catch (e) {
          if (e instanceof UsageError) throw Object.assign(e, { command })
          err(describe(e, loaded).map((l) => `${l}\n`).join(''))
          return EX_CONFIG
        }
        const { token, development } = minted
        if (development) err('signed with the development secret: only a server without JWT_SECRET accepts it\n')
        out(`${token}\n`)
        return 0
      }
      case 'config':
        if (positionals[0] !== 'defaults') {
          throw new UsageError(positionals[0] === undefined ? 'config: a subcommand is required: defaults' : `config: unknown subcommand "${positionals[0]}" (known: defaults)`, command)
        }
        out(JSON.stringify(await defaults(), null, 2) + '\n')
        return 0
      case 'docs': {
        const { writeDocs } = await import('./docs/write.js')
        for (const file of await writeDocs()) out(`wrote ${file}\n`)
        return 0
      }
      case 'contracts': {
        const kind = positionals[0]
        if (kind === undefined || !CONTRACT_KINDS.includes(kind)) {
          throw new UsageError(kind === undefined ? `contracts: a kind is required: ${CONTRACT_KINDS.join(', ')}` : `contracts: unknown kind "${kind}" (known: ${CONTRACT_KINDS.join(', ')})`, command)
        }
        const { loadConfigFile } = await import('../config/load.js')
        const { contractText } = await import('./contract-text.js')
        const { describe, isConfigError } = await import('./report.js')
        let loaded
        try {
          loaded = loadConfigFile(configFile(command, values, positionals[1], env), env)
          const text = await contractText(kind as 'openapi', loaded, { host: values.host as string | undefined })
          if (values.out === undefined) out(text)
          else {
            writeFileSync(values.out as string, text)
            err(`wrote ${values.out as string}\n`)
          }
          return 0
        } catch (e) {
          err(describe(e, loaded).map((l) => `${l}\n`).join(''))
          return isConfigError(e) ? EX_CONFIG : 1
        }
      }
    }
    return 1
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    command = e.command
    err(`${PROGRAM}${command === undefined ? '' : ` ${command}`}: ${e.message}\nRun '${PROGRAM}${command === undefined ? '' : ` ${command}`} --help' for usage.\n`)
    return EX_USAGE
  }
}
