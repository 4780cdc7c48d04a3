// The command line's words: what each command takes, its help text, and strict argument parsing.
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A wrong command line: one line of message, exit 64, with a pointer to the command's help. */
export class UsageError extends Error {
  constructor (message: string, readonly command?: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export const PROGRAM = 'realtime-server'

const CONFIG_LINE = '  -c, --config <file>   the config file (or give it as the argument); default: $CONFIG, else the embedded config/default.json'

export const HELP: Record<string, string> = {
  '': `Usage: ${PROGRAM} <command> [options]

A self-hosted, plugin-based realtime server (Fastify 5, Socket.IO 4).

Commands:
  start [file]             start the server
  check [file]             run every check start runs (config, environment, plugins) without opening a port
  token --sub <id> ...     mint a JWT signed with the configured (or development) secret
  config defaults          print the full default config as JSON
  docs                     write the generated documents (config/schema.json, docs/config-reference.md, docs/errors.md)
  contracts <kind>         print the OpenAPI, AsyncAPI or client-types document of a config

Options:
  -h, --help               show help (also: ${PROGRAM} <command> --help)
  -V, --version            show the version

Environment variables (PORT, HOST, JWT_SECRET, API_KEYS, REDIS_URL, ...) override the file: see docs/configuration.md.
Exit codes: 0 ok, 64 usage error, 78 configuration error, 1 anything else.
`,
  start: `Usage: ${PROGRAM} start [file] [options]

Loads the config (file, then environment variables), builds the server and listens on server.host:server.port
(HOST, PORT). SIGTERM drains and closes; SIGINT closes at once.

Options:
${CONFIG_LINE}
  -h, --help            show this help
`,
  check: `Usage: ${PROGRAM} check [file] [options]

Runs every check start runs: the config schema, environment variables, each plugin's options and the checks the
plugins make when they are set up (e.g. a WebSocket path overlapping socketio.path). Opens no port and connects
to no Redis. Prints the warnings and "<file>: valid", or each problem with its file, line and column.

Options:
${CONFIG_LINE}
  -h, --help            show this help
`,
  token: `Usage: ${PROGRAM} token --sub <user> [options]

Prints a JWT for development and tests, with the claim names of auth.jwt.claims, signed with the configured shared
secret (JWT_SECRET) or, without one, the development secret.

Options:
  --sub <id>            the user id (required)
  --tenant <id>         the tenant id
  --role <role>         a role; repeat for several
  --claim <k=v>         another claim (the value is JSON when it parses); repeat for several
  --expires <duration>  90s, 15m, 1h (default), 7d, or never
${CONFIG_LINE}
  -h, --help            show this help

Example: ${PROGRAM} token --sub u1 --tenant acme --role admin --claim channels='["c1"]' --expires 15m
`,
  config: `Usage: ${PROGRAM} config defaults

Prints the full default config as JSON: every key with its default, and the options of the plugins the embedded
config enables. Environment variables are not applied.

Options:
  -h, --help            show this help
`,
  docs: `Usage: ${PROGRAM} docs

Writes the generated documents from their sources: config/schema.json, docs/config-reference.md, docs/errors.md
and the metrics section of docs/operations.md (what \`npm run generate\` does).

Options:
  -h, --help            show this help
`,
  contracts: `Usage: ${PROGRAM} contracts <openapi|asyncapi|client-types> [file] [options]

Prints a contract document of a config, built without listening and without Redis.

Options:
${CONFIG_LINE}
  --out <file>          write to this file instead of stdout
  --host <host:port>    the server's address in the AsyncAPI document
  -h, --help            show this help
`
}

type Options = NonNullable<ParseArgsConfig['options']>

const configOption: Options = { config: { type: 'string', short: 'c' } }
const helpOption: Options = { help: { type: 'boolean', short: 'h' } }

/** Each command's options and how many positional arguments it takes. */
export const COMMANDS: Record<string, { options: Options, positionals: string[] }> = {
  start: { options: { ...configOption, ...helpOption }, positionals: ['file'] },
  check: { options: { ...configOption, ...helpOption }, positionals: ['file'] },
  token: {
    options: {
      ...configOption,
      ...helpOption,
      sub: { type: 'string' },
      tenant: { type: 'string' },
      role: { type: 'string', multiple: true },
      claim: { type: 'string', multiple: true },
      expires: { type: 'string', default: '1h' }
    },
    positionals: []
  },
  config: { options: helpOption, positionals: ['subcommand'] },
  docs: { options: helpOption, positionals: [] },
  contracts: { options: { ...configOption, ...helpOption, out: { type: 'string' }, host: { type: 'string' } }, positionals: ['kind', 'file'] }
}

/** Node's parse errors, said in one line. */
function oneLine (err: Error & { code?: string }): string {
  const m = /'(-[^']*)'/.exec(err.message)
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${m?.[1] ?? ''}`.trim()
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': return err.message.replace(/^Option /, 'option ').split('\n')[0]!
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return err.message.split('.')[0]!
    default: return err.message.split('\n')[0]!
  }
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** Strict parsing of one command's arguments: unknown options and extra arguments are usage errors. */
export function parseCommand (command: string, args: string[]): Parsed {
  const spec = COMMANDS[command]!
  let parsed
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(oneLine(err as Error), command)
  }
  if (parsed.positionals.length > spec.positionals.length) {
    const extra = parsed.positionals[spec.positionals.length]!
    throw new UsageError(`unexpected argument "${extra}"`, command)
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals }
}

/** The config file of a command: `--config f` or the positional `f`, never both; `CONFIG` otherwise. */
export function configFile (command: string, values: Parsed['values'], positional: string | undefined, env: Record<string, string | undefined>): string | undefined {
  const option = values.config as string | undefined
  if (option !== undefined && positional !== undefined && option !== positional) {
    throw new UsageError(`two config files given ("${option}" with --config and "${positional}"); give one`, command)
  }
  return option ?? positional ?? (env.CONFIG !== undefined && env.CONFIG !== '' ? env.CONFIG : undefined)
}
