/** `npm run generate`: regenerates config/schema.json, docs/config-reference.md, docs/errors.md and the metrics section of docs/operations.md from their sources. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildJsonSchema } from './docs/config-schema.js'
import { errorDocs } from './docs/errors.js'
import { configReference } from './docs/config-reference.js'
import { metricLists, metricsSection, withMetricsSection } from './docs/metrics.js'
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
const operationsFile = join(packageRoot, 'docs', 'operations.md')
writeFileSync(operationsFile, withMetricsSection(readFileSync(operationsFile, 'utf8'), metricsSection(await metricLists())))
process.stdout.write(`wrote ${schemaFile}\nwrote ${referenceFile}\nwrote ${errorsFile}\nwrote ${operationsFile} (metrics)\n`)
