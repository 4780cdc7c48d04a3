// admin.keys from the file and from ADMIN_KEYS (key@tenant), and the redaction of what the inspector shows.
import t from 'tap'
import { resolveConfig } from '../../src/config/load.js'
import { redact, REDACTED } from '../../src/core/inspector/redact.js'

t.test('ADMIN_KEYS: comma-separated, key@tenant binds a key to a tenant; short keys are refused', async (t) => {
  const { config } = resolveConfig({}, { env: { ADMIN_KEYS: 'admin-key-0123456789abcdef, acme-key-0123456789abcdef@acme' } })
  t.same(config.admin.keys, ['admin-key-0123456789abcdef', { key: 'acme-key-0123456789abcdef', tenantId: 'acme' }])
  t.same(resolveConfig({}, { env: {} }).config.admin.keys, [], 'none by default: the inspector is off')
  t.throws(() => resolveConfig({}, { env: { ADMIN_KEYS: 'short' } }), { code: 'RT_ERR_CONFIG', message: /ADMIN_KEYS/ })
  t.throws(() => resolveConfig({ admin: { keys: [{ key: 'k'.repeat(16), tenant: 'x' }] } }, { env: {} }), { code: 'RT_ERR_CONFIG' })
})

t.test('redaction: credential-like keys at any depth, URL passwords; the rest as it is', async (t) => {
  const shown = redact({
    auth: { jwt: { secret: 's3cret', publicKey: 'PEM', algorithms: ['HS256'], cacheSize: 10 }, apiKeys: ['k1'], expiryGraceMs: 5 },
    admin: { keys: [{ key: 'k', tenantId: 't' }] },
    redis: { url: 'redis://user:hunter2@redis:6379/0', keyPrefix: 'rt' },
    plugins: { x: { options: { webhookToken: 'tok', nested: [{ password: 'p', clientSecret: 'c', credentials: { a: 1 } }], enabled: true, name: 'n' } } }
  }) as any
  t.equal(shown.auth.jwt.secret, REDACTED)
  t.equal(shown.auth.jwt.publicKey, REDACTED)
  t.same(shown.auth.jwt.algorithms, ['HS256'])
  t.equal(shown.auth.jwt.cacheSize, 10)
  t.equal(shown.auth.apiKeys, REDACTED)
  t.equal(shown.admin.keys, REDACTED)
  t.equal(shown.redis.keyPrefix, 'rt')
  t.notMatch(shown.redis.url, /hunter2/)
  t.match(shown.redis.url, /^redis:\/\/user:.*@redis:6379\/0$/)
  t.equal(shown.plugins.x.options.webhookToken, REDACTED)
  t.same(shown.plugins.x.options.nested, [{ password: REDACTED, clientSecret: REDACTED, credentials: REDACTED }])
  t.equal(shown.plugins.x.options.name, 'n')
  t.equal(shown.plugins.x.options.enabled, true)
})
