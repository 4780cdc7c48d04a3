/** The server's version (package.json), for the `info.version` of the generated documents. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../lib/package-root.js'

let version: string | undefined

/** The `version` of the server's package.json, read once. */
export function packageVersion (): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0'
  return version
}
