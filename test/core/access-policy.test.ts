import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { createAccessPolicy } from '../../src/core/access-policy.js'
import type { Identity } from '../../src/core/auth/tokens.js'
import { eventually } from 'realtime-server/testing'

const user: Identity = { userId: 'u1', tenantId: 'acme', roles: ['staff'], claims: { sub: 'u1', campaigns: ['c1', 'c2'], one: 'c9' } }

t.test('tenant, claim and roles modes', async (t) => {
  t.same(await createAccessPolicy({ mode: 'tenant' }).check(user, 'campaign', 'anything'), { allowed: true })
  const claim = createAccessPolicy({ mode: 'claim', claim: 'campaigns' })
  t.same(await claim.check(user, 'campaign', 'c2'), { allowed: true })
  t.same(await claim.check(user, 'campaign', 'c3'), { allowed: false, reason: 'not listed in the token\'s campaigns claim' })
  t.same(await createAccessPolicy({ mode: 'claim', claim: 'one' }).check(user, 'campaign', 'c9'), { allowed: true }, 'a single id')
  t.same(await createAccessPolicy({ mode: 'claim', claim: 'absent' }).check(user, 'campaign', 'c9'), { allowed: false, reason: 'not listed in the token\'s absent claim' })
  t.same(await createAccessPolicy({ mode: 'claim', claim: 'campaigns' }).check({ ...user, claims: { campaigns: ['*'] } }, 'campaign', 'zz'), { allowed: true }, '* allows all')
  t.same(await createAccessPolicy({ mode: 'roles', roles: ['admin', 'staff'] }).check(user, 'session', 's1'), { allowed: true })
  t.same(await createAccessPolicy({ mode: 'roles', roles: ['admin'] }).check(user, 'session', 's1'), { allowed: false, reason: 'requires one of the roles admin' })
})

t.test('hook mode: a real backend decides; slow or down means refused; answers are cached', async (t) => {
  const bodies: unknown[] = []
  let hang = false
  const backend = createServer((req: IncomingMessage, res) => {
    let raw = ''
    req.on('data', (c) => { raw += c })
    req.on('end', () => {
      const body = JSON.parse(raw) as { id: string }
      bodies.push({ ...body, secret: req.headers['x-hook-secret'] })
      if (hang) return // never answers: only the client's timeout ends the request
      res.writeHead(body.id.startsWith('ok') ? 204 : 403).end()
    })
  })
  backend.listen(0, '127.0.0.1')
  await once(backend, 'listening')
  const url = `http://127.0.0.1:${(backend.address() as { port: number }).port}/can-join`
  const policy = createAccessPolicy({ mode: 'hook', url, timeoutMs: 10_000, cacheTtlMs: 60_000, cacheSize: 2, headers: { 'x-hook-secret': 's3' } })

  t.same(await policy.check(user, 'campaign', 'ok-1'), { allowed: true })
  t.same(bodies[0], { userId: 'u1', tenantId: 'acme', roles: ['staff'], kind: 'campaign', id: 'ok-1', secret: 's3' })
  t.same(await policy.check(user, 'campaign', 'no-1'), { allowed: false, reason: 'refused by the access hook' })
  t.same(await policy.check(user, 'campaign', 'ok-1'), { allowed: true })
  t.equal(bodies.length, 2, 'the second ok-1 came from the cache')

  hang = true
  const impatient = createAccessPolicy({ mode: 'hook', url, timeoutMs: 200, cacheTtlMs: 60_000, cacheSize: 2 })
  t.same(await impatient.check(user, 'campaign', 'ok-slow'), { allowed: false, reason: 'the access hook is unavailable' }, 'a hook slower than timeoutMs refuses')
  hang = false

  const noCache = createAccessPolicy({ mode: 'hook', url, timeoutMs: 10_000, cacheTtlMs: 0, cacheSize: 10 })
  await noCache.check(user, 'campaign', 'ok-2')
  await noCache.check(user, 'campaign', 'ok-2')
  t.equal(bodies.filter((b) => (b as { id: string }).id === 'ok-2').length, 2, 'cacheTtlMs 0 asks every time')

  backend.closeAllConnections()
  backend.close()
  await once(backend, 'close')
  t.same(await createAccessPolicy({ mode: 'hook', url, timeoutMs: 500, cacheTtlMs: 0, cacheSize: 1 }).check(user, 'campaign', 'ok-3'),
    { allowed: false, reason: 'the access hook is unavailable' }, 'a hook that is down refuses')
})

/** A real backend for the hook: `answer(body)` decides each request; every request's `id` is recorded. */
async function hookBackend (t: Test, answer: (id: string, res: ServerResponse) => void): Promise<{ url: string, ids: string[] }> {
  const ids: string[] = []
  const backend = createServer((req: IncomingMessage, res) => {
    let raw = ''
    req.on('data', (c) => { raw += c })
    req.on('end', () => {
      const { id } = JSON.parse(raw) as { id: string }
      ids.push(id)
      answer(id, res)
    })
  })
  backend.listen(0, '127.0.0.1')
  await once(backend, 'listening')
  t.teardown(async () => {
    backend.closeAllConnections()
    backend.close()
    await once(backend, 'close')
  })
  return { url: `http://127.0.0.1:${(backend.address() as { port: number }).port}/can-join`, ids }
}

t.test('hook mode: identical lookups in flight share one request; errors are not kept', async (t) => {
  const held: Array<() => void> = []
  let fail = true
  const { url, ids } = await hookBackend(t, (_id, res) => {
    if (fail) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{not json')
      return
    }
    held.push(() => { res.writeHead(204).end() })
  })
  const policy = createAccessPolicy({ mode: 'hook', url, timeoutMs: 10_000, cacheTtlMs: 60_000, cacheSize: 10 })
  t.same(await policy.check(user, 'campaign', 'c1'), { allowed: false, reason: 'the access hook is unavailable' }, 'a 2xx that is not the JSON it says refuses')
  fail = false
  const answers = Array.from({ length: 50 }, async () => await policy.check(user, 'campaign', 'c1'))
  const other = policy.check({ ...user, userId: 'u2' }, 'campaign', 'c1')
  await eventually('both lookups reached the hook', () => held.length === 2 ? true : undefined)
  for (const release of held) release()
  t.same(await Promise.all(answers), Array.from({ length: 50 }, () => ({ allowed: true })))
  t.same(await other, { allowed: true })
  t.same(ids, ['c1', 'c1', 'c1'], 'one failed request, then one for u1 (50 lookups) and one for u2')
})

t.test('hook mode: an LRU with a TTL, the least recently used goes first', async (t) => {
  const { url, ids } = await hookBackend(t, (_id, res) => { res.writeHead(204).end() })
  const policy = createAccessPolicy({ mode: 'hook', url, timeoutMs: 10_000, cacheTtlMs: 60_000, cacheSize: 2 })
  await policy.check(user, 'campaign', 'a')
  await policy.check(user, 'campaign', 'b')
  await policy.check(user, 'campaign', 'a') // a is now the most recently used
  await policy.check(user, 'campaign', 'c') // evicts b, not a
  await policy.check(user, 'campaign', 'a')
  t.same(ids, ['a', 'b', 'c'], 'a stayed (a FIFO would have evicted it)')
  await policy.check(user, 'campaign', 'b')
  t.same(ids, ['a', 'b', 'c', 'b'], 'b was evicted')

  const short = createAccessPolicy({ mode: 'hook', url, timeoutMs: 10_000, cacheTtlMs: 50, cacheSize: 10 })
  await short.check(user, 'campaign', 'ttl')
  await eventually('the answer expired', async () => {
    await short.check(user, 'campaign', 'ttl')
    return ids.filter((id) => id === 'ttl').length >= 2 ? true : undefined
  })
  t.ok(ids.filter((id) => id === 'ttl').length >= 2, 'asked again after cacheTtlMs')
})

t.test('hook mode: the answer\'s data reaches the caller; too large or hostile bodies refuse', async (t) => {
  const big = 'x'.repeat(70 * 1024)
  const { url } = await hookBackend(t, (id, res) => {
    if (id === 'data') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { unread: 3, title: 'a\u00e9' } }))
    else if (id === 'proto') res.writeHead(200, { 'content-type': 'application/json' }).end('{"__proto__":{"allowed":false},"data":1}')
    else if (id === 'big') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: big }))
    else if (id === 'chunked') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
      res.write('{"data":"')
      res.write(big)
      res.end('"}')
    } else if (id === 'array') res.writeHead(200, { 'content-type': 'application/json' }).end('[1]')
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('yes')
  })
  const policy = createAccessPolicy({ mode: 'hook', url, timeoutMs: 10_000, cacheTtlMs: 60_000, cacheSize: 10 })
  t.same(await policy.check(user, 'campaign', 'data'), { allowed: true, data: { unread: 3, title: 'a\u00e9' } })
  t.same(await policy.check(user, 'campaign', 'data'), { allowed: true, data: { unread: 3, title: 'a\u00e9' } }, 'the data is cached with the answer')
  const proto = await policy.check(user, 'campaign', 'proto')
  t.equal(proto.allowed, true, '__proto__ in the body changes nothing')
  t.equal(proto.data, 1)
  t.same(await policy.check(user, 'campaign', 'big'), { allowed: false, reason: 'the access hook is unavailable' }, 'a body over 64 KiB refuses')
  t.same(await policy.check(user, 'campaign', 'chunked'), { allowed: false, reason: 'the access hook is unavailable' }, 'also without Content-Length')
  t.same(await policy.check(user, 'campaign', 'array'), { allowed: true }, 'a JSON body without data: allowed, no data')
  t.same(await policy.check(user, 'campaign', 'text'), { allowed: true }, 'a body that is not JSON: allowed, not read')
})
