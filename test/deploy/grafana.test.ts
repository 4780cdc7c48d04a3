// The Grafana dashboard queries only metric families the server has (the generated list of docs/operations.md).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { metricLists, metricNames } from '../../src/cli/docs/metrics.js'

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/

t.test('every metric the dashboard queries exists', async (t) => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/realtime-server.json', 'utf8'))
  const lists = await metricLists()
  const known = new Set(metricNames(lists))
  const histograms = new Set([...lists.core, ...lists.plugins, ...lists.process].filter((m) => m.type === 'histogram').map((m) => m.name))
  const queries: string[] = []
  for (const panel of dashboard.panels) for (const target of panel.targets ?? []) queries.push(target.expr)
  for (const v of dashboard.templating.list) if (typeof v.query === 'string' && v.type === 'query') queries.push(v.query)
  t.ok(queries.length > 10, 'the dashboard has queries')
  const used = new Set<string>()
  for (const q of queries) for (const m of q.matchAll(/\b((?:rt|process|nodejs)_[a-z0-9_]+)\b/g)) used.add(m[1]!)
  for (const name of used) {
    const family = HISTOGRAM_SERIES.test(name) && histograms.has(name.replace(HISTOGRAM_SERIES, '')) ? name.replace(HISTOGRAM_SERIES, '') : name
    t.ok(known.has(family), `${name} is a metric of the server`)
  }
  // Every core family is on the dashboard, but the opt-in tenant ones.
  for (const m of lists.core) {
    if (m.when === 'tenantLabel') continue
    t.ok([...used].some((u) => u === m.name || u.replace(HISTOGRAM_SERIES, '') === m.name), `${m.name} has a panel`)
  }
})
