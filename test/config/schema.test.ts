import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { builtinSchemas } from '../../src/cli/builtins.js'
import { buildJsonSchema } from '../../src/cli/docs/config-schema.js'
import { errorDocs } from '../../src/cli/docs/errors.js'
import { configReference } from '../../src/cli/docs/config-reference.js'
import { BEGIN, END, metricLists, metricsSection } from '../../src/cli/docs/metrics.js'
import { errorCatalog } from '../../src/lib/errors.js'
import { warningCatalog } from '../../src/lib/warnings.js'

t.test('generated files match their sources (run `npm run generate`)', async (t) => {
  const plugins = await builtinSchemas()
  const committed = JSON.parse(readFileSync('config/schema.json', 'utf8'))
  t.same(committed, buildJsonSchema(plugins), 'config/schema.json drifted: run `npm run generate`')
  t.equal(readFileSync('docs/config-reference.md', 'utf8'), configReference(plugins), 'docs/config-reference.md drifted: run `npm run generate`')
  t.equal(readFileSync('docs/errors.md', 'utf8'), errorDocs(errorCatalog(), warningCatalog()), 'docs/errors.md drifted: run `npm run generate`')
  const operations = readFileSync('docs/operations.md', 'utf8')
  const committedMetrics = operations.slice(operations.indexOf(BEGIN), operations.indexOf(END) + END.length)
  t.equal(committedMetrics, metricsSection(await metricLists()), 'the metrics section of docs/operations.md drifted: run `npm run generate`')
  t.same(Object.keys(committed.properties.plugins.properties).sort(), plugins.map((p) => p.name).sort(), 'every built-in plugin is described')
})

t.test('every config file points editors at the schema', async (t) => {
  const files = ['config/default.json', ...readdirSync('config/examples').map((f) => `config/examples/${f}`)]
  for (const f of files) {
    const json = JSON.parse(readFileSync(f, 'utf8'))
    t.equal(json.$schema, f === 'config/default.json' ? './schema.json' : '../schema.json', f)
  }
})
