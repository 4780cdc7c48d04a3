// The inspector page in a real browser (Debian's chromium): clients appear, events show in the tail, disconnect works, tenant keys see their tenant.
import t from 'tap'
import { waitFor } from 'realtime-server/testing'
import { launchChromium, signedIn } from '../fixtures/inspector/browser.js'
import { ACME_KEY, ADMIN_KEY, inspectorServer, ping } from '../fixtures/inspector/helpers.js'

t.test('the inspector page, as an admin of every tenant', async (t) => {
  const server = await inspectorServer()
  t.teardown(() => server.close())
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await (await signedIn(browser, ADMIN_KEY)).newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => { errors.push(err.message) })

  await page.goto(`${server.url}/inspector`)
  await page.locator('#status.ok').waitFor()
  t.equal(await page.locator('#nodes tbody tr').count(), 1, 'one node')
  t.match(await page.locator('#who').textContent(), /every tenant/)

  const client = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme', role: 'agent' }) })
  await page.locator('#tenant-id').fill('acme')
  await page.locator('#tenant-form button[type=submit]').click()
  const row = page.locator(`#sockets tr[data-socket-id="${client.id}"]`)
  await row.waitFor()
  t.equal(await row.getAttribute('data-user-id'), 'ann', 'the client that connected is listed')
  await page.locator('#rooms tr[data-room="role:agent"]').waitFor()
  await page.locator('#connections tr[data-namespace="/"] a[data-tenant="acme"]').waitFor()

  await page.locator('#tail-state.ok').waitFor()
  await ping(server, 'acme', { hello: 'from REST' })
  const line = page.locator('#tail-list li[data-event="probe:ping"]')
  await line.waitFor()
  t.equal(await line.getAttribute('data-tenant'), 'acme')
  t.match(await line.locator('pre').textContent(), /from REST/, 'the payload shows')

  await page.locator('#publish-url').selectOption('/api/tenant-broadcast/events')
  await page.locator('#publish-body').fill(JSON.stringify({ tenantId: 'acme', type: 'probe:ping', payload: { hello: 'from the page' } }))
  const delivered = waitFor(client as any, 'probe:ping')
  await page.locator('#publish-form button[type=submit]').click()
  t.same((await delivered)[0], { hello: 'from the page' }, 'the page published through the trigger')
  await page.locator('#publish-result', { hasText: /^200 / }).waitFor()
  await page.locator('#tail-list li pre', { hasText: 'from the page' }).waitFor()

  const gone = waitFor(client as any, 'disconnect')
  await row.locator('button.disconnect-socket').click()
  t.equal((await gone)[0], 'io server disconnect', 'the client is disconnected')
  await row.waitFor({ state: 'detached' })
  t.same(errors, [], 'no script error')
})

t.test('the inspector page, as an admin bound to one tenant', async (t) => {
  const server = await inspectorServer()
  t.teardown(() => server.close())
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const mine = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const theirs = await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'globex' }) })
  const page = await (await signedIn(browser, ACME_KEY)).newPage()
  await page.goto(`${server.url}/inspector`)
  await page.locator('#status.ok').waitFor()
  t.match(await page.locator('#who').textContent(), /tenant acme/)
  t.equal(await page.locator('#tenant-id').inputValue(), 'acme')
  t.ok(await page.locator('#tenant-id').evaluate((input: any) => input.readOnly), 'the tenant cannot be changed')
  await page.locator(`#sockets tr[data-socket-id="${mine.id}"]`).waitFor()
  t.equal(await page.locator(`#sockets tr[data-socket-id="${theirs.id}"]`).count(), 0, 'another tenant\'s socket is not listed')
  t.equal(await page.locator('#connections a[data-tenant="globex"]').count(), 0, 'nor counted')
  t.ok(await page.locator('#core-config').evaluate((d: any) => d.hidden), 'no deployment-wide config')

  await page.locator('#tail-state.ok').waitFor()
  await ping(server, 'globex', { sentinel: true })
  await ping(server, 'acme', { n: 1 })
  await page.locator('#tail-list li[data-tenant="acme"]').waitFor()
  t.equal(await page.locator('#tail-list li[data-tenant="globex"]').count(), 0, 'the globex event, published first, is not shown')
})
