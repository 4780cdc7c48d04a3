import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { startServer } from 'realtime-server/testing'

// Every example config (one per seed) and the embedded defaults start, answer /ready, and accept an
// authenticated socket on every namespace their plugins use.
const files = ['config/default.json', ...readdirSync('config/examples').filter((f) => f.endsWith('.json')).map((f) => `config/examples/${f}`)]

for (const file of files) {
  t.test(file, async (t) => {
    const raw = JSON.parse(readFileSync(file, 'utf8'))
    const server = await startServer({ config: raw, baseDir: file.startsWith('config/examples') ? 'config/examples' : 'config' })
    t.teardown(() => server.close())
    t.same((await server.request('GET', '/ready')).body, { status: 'ready' })
    const core = (server.app as unknown as Record<symbol, { registry: { names: () => string[] } }>)[Symbol.for('realtime-server.core')]!
    const namespaces = core.registry.names()
    t.ok(namespaces.includes('/'))
    for (const ns of namespaces) {
      const socket = await server.connect(ns, { token: server.token({ sub: 'u1', tenantId: 't1', role: 'admin' }) })
      t.ok(socket.connected, `${ns} accepts an authenticated socket`)
    }
  })
}
