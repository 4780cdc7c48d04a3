import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { createAccessPolicy } from '../../src/core/access-policy.js'
import type { Identity } from '../../src/core/auth/tokens.js'

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
