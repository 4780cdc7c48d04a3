// The copyable receiver of docs/webhooks.md (examples/webhook-receiver/receiver.mjs), run as written against a real server.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { eventually, startServer } from 'realtime-server/testing'
import { SECRET } from '../fixtures/webhook-receiver.js'

const script = fileURLToPath(new URL('../../examples/webhook-receiver/receiver.mjs', import.meta.url))

async function run (t: Test, env: Record<string, string>): Promise<{ lines: string[], exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l))
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode === null) child.kill()
    await exited
  })
  return { lines, exited }
}

t.test('the example receiver verifies, prints and deduplicates real deliveries, and refuses a forged one', async (t) => {
  const receiver = await run(t, { WEBHOOK_SECRET: SECRET, PORT: '0' })
  const listening = await eventually('listening', () => receiver.lines.map((l) => /listening on (\S+)/.exec(l)?.[1]).find((u) => u !== undefined))
  const server = await startServer({
    config: {
      webhooks: { endpoints: [{ name: 'backend', url: `${listening}/`, secret: SECRET, events: ['user.online'] }] },
      plugins: { presence: { options: { online: [{ namespace: '/' }], typing: [] } } }
    }
  })
  t.teardown(async () => { await server.close() })
  await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  const line = await eventually('the event printed', () => receiver.lines.find((l) => l.startsWith('user.online')))
  t.equal(line, 'user.online tenant=acme {"userId":"alice","namespace":"/"}')

  const forged = await fetch(`${listening}/`, {
    method: 'POST',
    headers: { 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,Zm9yZ2Vk' },
    body: '{"type":"user.online","tenantId":"acme","data":{"userId":"mallory"}}'
  })
  t.equal(forged.status, 401, 'a forged signature is refused')
  await eventually('the refusal printed', () => receiver.lines.find((l) => l.startsWith('refused')))
  t.notOk(receiver.lines.some((l) => l.includes('mallory')), 'and its event is not used')
})

t.test('without WEBHOOK_SECRET it says what to set and exits 1', async (t) => {
  const receiver = await run(t, { WEBHOOK_SECRET: '', PORT: '0' })
  t.equal(await receiver.exited, 1)
  t.match(receiver.lines.join('\n'), /set WEBHOOK_SECRET/)
})
