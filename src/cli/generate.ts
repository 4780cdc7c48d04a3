/** `npm run generate`: regenerates config/schema.json, docs/config-reference.md and docs/errors.md from their sources. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildJsonSchema } from './docs/config-schema.js'
import { errorDocs } from './docs/errors.js'
import { configReference } from './docs/config-reference.js'
import { errorCatalog } from '../lib/errors.js'
import { warningCatalog } from '../lib/warnings.js'
import { packageRoot } from '../lib/package-root.js'
import { builtinSchemas } from './builtins.js'

const plugins = await builtinSchemas()
const schemaFile = join(packageRoot, 'config', 'schema.json')
writeFileSync(schemaFile, JSON.stringify(buildJsonSchema(plugins), null, 2) + '\n')
const referenceFile = join(packageRoot, 'docs', 'config-reference.md')
writeFileSync(referenceFile, configReference(plugins))
const errorsFile = join(packageRoot, 'docs', 'errors.md')
writeFileSync(errorsFile, errorDocs(errorCatalog(), warningCatalog()))
process.stdout.write(`wrote ${schemaFile}\nwrote ${referenceFile}\nwrote ${errorsFile}\n`)
