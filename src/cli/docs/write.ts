// Writes the generated documents: config/schema.json, docs/config-reference.md, docs/errors.md, the metrics section of docs/operations.md.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { errorCatalog } from '../../lib/errors.js'
import { packageRoot } from '../../lib/package-root.js'
import { warningCatalog } from '../../lib/warnings.js'
import { builtinSchemas } from '../builtins.js'
import { buildJsonSchema } from './config-schema.js'
import { configReference } from './config-reference.js'
import { errorDocs } from './errors.js'
import { metricLists, metricsSection, withMetricsSection } from './metrics.js'

/** Regenerates every generated document from its sources; returns the files written. */
export async function writeDocs (root = packageRoot): Promise<string[]> {
  const plugins = await builtinSchemas()
  const schemaFile = join(root, 'config', 'schema.json')
  writeFileSync(schemaFile, JSON.stringify(buildJsonSchema(plugins), null, 2) + '\n')
  const referenceFile = join(root, 'docs', 'config-reference.md')
  writeFileSync(referenceFile, configReference(plugins))
  const errorsFile = join(root, 'docs', 'errors.md')
  writeFileSync(errorsFile, errorDocs(errorCatalog(), warningCatalog()))
  const operationsFile = join(root, 'docs', 'operations.md')
  writeFileSync(operationsFile, withMetricsSection(readFileSync(operationsFile, 'utf8'), metricsSection(await metricLists())))
  return [schemaFile, referenceFile, errorsFile, `${operationsFile} (metrics)`]
}
