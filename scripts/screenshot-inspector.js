// Takes docs/images/inspector.png: two nodes on Redis with a few clients and events, the inspector page in Debian's chromium.
// Run after `npm run build`, with Redis on 127.0.0.1:6379 (or REDIS_URL): node scripts/screenshot-inspector.js [out.png]
import { launchChromium } from './chromium.js'
import { fileURLToPath } from 'node:url'
import { startServer } from '../dist/src/testing.js'

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/images/inspector.png', import.meta.url))
const ADMIN_KEY = 'admin-key-0123456789abcdef'
const config = {
  admin: { keys: [ADMIN_KEY] },
  plugins: {
    'tenant-broadcast': { options: { customEvents: { 'order:shipped': { schema: { type: 'object' } } } } },
    presence: {}
  }
}

const one = await startServer({ redis: true, config })
const two = await startServer({ redis: one.keyPrefix, config })
const browser = await launchChromium()
try {
  const people = [
    [one, 'ann', 'acme', 'agent'], [one, 'bob', 'acme', 'agent'], [two, 'cy', 'acme', 'manager'],
    [two, 'ann', 'acme', 'agent'], [one, 'dee', 'globex', 'agent'], [two, 'eve', 'globex', 'agent'], [two, 'fay', 'initech', 'agent']
  ]
  for (const [server, sub, tenantId, role] of people) await server.connect('/', { token: server.token({ sub, tenantId, role }) })

  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY }, viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  await page.goto(`${one.url}/inspector`)
  await page.locator('#status.ok').waitFor()
  await page.locator('#nodes tbody tr:nth-child(2)').waitFor()
  await page.locator('#tenant-id').fill('acme')
  await page.locator('#tenant-form button[type=submit]').click()
  await page.locator('#sockets tbody tr:nth-child(4)').waitFor()
  await page.locator('#tail-state.ok').waitFor()
  // Node two forwards its publishes once it heard node one's watcher.
  await page.waitForFunction(() => [...document.querySelectorAll('#nodes tbody tr td:last-child')].every((td) => td.textContent !== 'idle'))

  const events = [
    [two, 'acme', { orderId: 'A-1001', carrier: 'DHL' }, { users: ['ann'] }],
    [one, 'globex', { orderId: 'G-17', carrier: 'UPS' }, undefined],
    [one, 'acme', { orderId: 'A-1002', carrier: 'FedEx' }, { roles: ['manager'] }]
  ]
  for (const [server, tenantId, payload, to] of events) {
    const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { tenantId, type: 'order:shipped', payload, ...(to === undefined ? {} : { to }) } })
    if (res.status !== 200) throw new Error(`publish: ${res.status} ${JSON.stringify(res.body)}`)
  }
  await page.locator('#tail-list li:nth-child(3)').waitFor()
  await page.locator('#publish-url').selectOption('/api/tenant-broadcast/events')
  await page.locator('#publish-body').fill(JSON.stringify({ tenantId: 'acme', type: 'order:shipped', payload: { orderId: 'TEST-1' } }))
  await page.locator('#publish-body').blur()
  await page.screenshot({ path: out, fullPage: true })
  process.stdout.write(`wrote ${out}\n`)
} finally {
  await browser.close()
  await two.close()
  await one.close()
}
