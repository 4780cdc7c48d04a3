// Every event of each plugin's catalog (default options) is in its README's event tables, and every event a README table row names is in the catalog.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { startServer } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { contractsOf } from '../../src/core/contracts/registry.js'
import { allPlugins } from '../fixtures/contracts/all-plugins.js'

const readmeOf: Record<string, string> = {
  'tenant-broadcast': 'plugins/tenant-broadcast/README.md',
  presence: 'plugins/presence/README.md',
  sessions: 'plugins/sessions/README.md',
  'chat-messages': 'plugins/chat-messages/README.md',
  'commerce-namespaces': 'plugins/commerce-namespaces/README.md',
  hello: 'examples/hello-plugin/README.md'
}

/** Events a README documents for options other than the defaults (each checked by the plugin's own tests). */
const otherOptions: Record<string, readonly string[]> = {
  'tenant-broadcast': ['subscribe:flow'], // a `flows` room kind
  presence: ['customer:online', 'customer:offline', 'typing:indicator'] // formats `customer` and `contact`
}

/** The event names in the first cell of the README's table rows (`a:b` / `c:d`). */
function tableEvents (text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const first = /^\|([^|]*)\|/.exec(line)?.[1]
    if (first === undefined) continue
    for (const m of first.matchAll(/`([a-z_]+:[a-z_:]+|hello)`/g)) names.add(m[1]!)
  }
  return names
}

t.test('plugin READMEs document exactly their catalog events', async (t) => {
  const server = await startServer({ config: { plugins: allPlugins } })
  t.teardown(() => server.close())
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  for (const contract of contractsOf(core)) {
    const file = readmeOf[contract.plugin]
    if (file === undefined) continue
    const text = readFileSync(file, 'utf8')
    const documented = tableEvents(text)
    const catalog = [...Object.keys(contract.catalog.client ?? {}), ...Object.keys(contract.catalog.server ?? {})].filter((e) => e !== '*' && e !== 'error')
    for (const event of catalog) t.ok(documented.has(event) || text.includes(`\`${event}\``), `${file} documents ${event}`)
    const known = new Set([...catalog, 'error', 'auth:refresh', 'auth:expired', ...(otherOptions[contract.plugin] ?? [])])
    for (const event of documented) t.ok(known.has(event), `${file}: ${event} in a table is in the catalog of ${contract.plugin}`)
  }
})
