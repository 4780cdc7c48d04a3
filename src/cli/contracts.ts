/**
 * `realtime-server contracts` does the same (src/cli/run.ts); this script is kept for its callers.
 * `npm run contracts -- <openapi|asyncapi|client-types> [--config <file>] [--out <file>] [--host <host:port>]`: writes the
 * OpenAPI document, the AsyncAPI document or the typed client definitions (.d.ts) of a config, to stdout or `--out`.
 */
import { writeFileSync } from 'node:fs'
import { loadConfig } from '../config/load.js'
import { contractText as textOf, CONTRACT_KINDS as KINDS, type ContractKind as Kind } from './contract-text.js'

const option = (argv: readonly string[], name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  if (i >= 0) return argv[i + 1]
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

/** The text of one contract for the config the arguments name. */
export async function contractText (kind: Kind, argv: readonly string[]): Promise<string> {
  return await textOf(kind, loadConfig(argv, process.env), { host: option(argv, 'host') })
}

const argv = process.argv.slice(2)
const kind = argv[0] as Kind
if (!KINDS.includes(kind)) {
  process.stderr.write(`usage: contracts <${KINDS.join('|')}> [--config <file>] [--out <file>] [--host <host:port>]\n`)
  process.exitCode = 2
} else {
  try {
    const text = await contractText(kind, argv.slice(1))
    const out = option(argv, 'out')
    if (out === undefined) process.stdout.write(text)
    else {
      writeFileSync(out, text)
      process.stderr.write(`wrote ${out}\n`)
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exitCode = 1
  }
}
