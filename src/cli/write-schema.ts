/** `npm run config:schema`: regenerates config/schema.json from the TypeBox sources. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildJsonSchema } from '../config/json-schema.js'
import { packageRoot } from '../core/package-root.js'
import { builtinSchemas } from './builtins.js'

const file = join(packageRoot, 'config', 'schema.json')
writeFileSync(file, JSON.stringify(buildJsonSchema(await builtinSchemas()), null, 2) + '\n')
process.stdout.write(`wrote ${file}\n`)
