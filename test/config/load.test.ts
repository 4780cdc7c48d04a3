import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { envBindings } from '../../src/config/env.js'
import { configPath, DEVELOPMENT_JWT_SECRET, loadConfig, resolveConfig } from '../../src/config/load.js'
import { ServerConfig } from '../../src/config/schema.js'

const dir = mkdtempSync(join(tmpdir(), 'rt-config-'))
const write = (name: string, content: unknown): string => {
  const file = join(dir, name)
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}
const rsaPublic = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()

t.test('the embedded defaults load, with development keys and loud warnings', async (t) => {
  const { config, warnings, source } = loadConfig([], {})
  t.match(source, /config[/\\]default\.json$/)
  t.equal(config.server.port, 3000)
  t.equal(config.socketio.path, '/socket.io')
  t.equal(config.auth.jwt.secret, DEVELOPMENT_JWT_SECRET)
  t.same(warnings.map((w) => w.code), ['RT_WARN_DEV_JWT_SECRET', 'RT_WARN_DEV_LOOPBACK', 'RT_WARN_DEV_API_KEY'], 'each warning has its code')
  t.equal(config.server.host, '127.0.0.1', 'the development secret listens on the loopback only')
  t.match(warnings[0]!.message, /development secret/)
  t.match(warnings[0]!.fix, /JWT_SECRET/)
  t.ok(Object.isFrozen(config.server), 'the config is frozen')
})

t.test('defaults are applied under every section', async (t) => {
  const { config } = resolveConfig({}, { env: {} })
  t.same(config.auth.jwt.claims, { userId: 'sub', tenantId: 'tenantId', role: 'role' })
  t.equal(config.socketio.pingInterval, 25000)
  t.equal(config.socketio.connectionStateRecovery.enabled, false)
  t.equal(config.redis.keyPrefix, 'rt')
  t.same(config.plugins, {})
})

t.test('--config and CONFIG select the file; --config wins', async (t) => {
  t.equal(configPath(['--config', 'a.json'], { CONFIG: 'b.json' }), 'a.json')
  t.equal(configPath(['--config=c.json'], {}), 'c.json')
  t.equal(configPath([], { CONFIG: 'b.json' }), 'b.json')
  t.equal(configPath([], {}), undefined)
  const file = write('port.json', { server: { port: 4100 } })
  t.equal(loadConfig(['--config', file], {}).config.server.port, 4100)
  t.equal(loadConfig([], { CONFIG: file }).config.server.port, 4100)
  t.equal(loadConfig([], { CONFIG: file }).baseDir, dir, 'relative plugin paths start at the config file')
})

t.test('environment overrides', async (t) => {
  const { config, warnings } = resolveConfig({ server: { port: 1 } }, {
    env: { PORT: '4321', HOST: '127.0.0.1', LOG_LEVEL: 'debug', JWT_SECRET: 's3cret', API_KEYS: 'k-0123456789abcdef, k-bound-0123456789@acme', REDIS_URL: 'redis://127.0.0.1:6379' }
  })
  t.equal(config.server.port, 4321)
  t.equal(config.server.host, '127.0.0.1')
  t.equal(config.server.logLevel, 'debug')
  t.equal(config.auth.jwt.secret, 's3cret')
  t.same(config.auth.apiKeys, ['k-0123456789abcdef', { key: 'k-bound-0123456789', tenantId: 'acme' }])
  t.equal(config.redis.url, 'redis://127.0.0.1:6379')
  t.same(warnings, [], 'no development defaults when keys are given')
})

t.test('a key from the environment replaces the key kind of the file', async (t) => {
  const { config } = resolveConfig({ auth: { jwt: { publicKey: rsaPublic } } }, { env: { JWT_SECRET: 'from-env' } })
  t.equal(config.auth.jwt.secret, 'from-env')
  t.equal(config.auth.jwt.publicKey, undefined)
  const pem = resolveConfig({}, { env: { JWT_PUBLIC_KEY: rsaPublic.replace(/\n/g, '\\n') } }).config
  t.equal(pem.auth.jwt.publicKey, rsaPublic, 'escaped newlines are accepted for one-line env values')
})

t.test('bad values stop start-up naming the key and the reason', async (t) => {
  const cases: Array<[unknown, Record<string, string>, RegExp]> = [
    [{ server: { port: 'x' } }, {}, /server\.port: must be integer/],
    [{ server: { port: 70000 } }, {}, /server\.port: must be less or equal to 65535|server\.port: must be/],
    [{ socketio: { pingIntervall: 1 } }, {}, /socketio\.pingIntervall: is not an allowed property/],
    [{ socketio: { transports: ['carrier-pigeon'] } }, {}, /socketio\.transports\.0: must be one of: polling, websocket/],
    [{ auth: { jwt: { algorithms: ['none'] } } }, {}, /auth\.jwt\.algorithms\.0: must be one of: HS256/],
    [{ auth: { jwt: { secret: 'a', publicKey: rsaPublic } } }, {}, /auth\.jwt: set only one of secret, publicKey, jwksUrl/],
    [{ auth: { jwt: { secret: 'a', algorithms: ['RS256'] } } }, {}, /auth\.jwt\.algorithms: RS256 cannot be used with a shared secret/],
    [{ auth: { jwt: { publicKey: rsaPublic, algorithms: ['ES256'] } } }, {}, /auth\.jwt\.algorithms: ES256 cannot be used with this rsa public key/],
    [{ auth: { jwt: { publicKey: 'not a key' } } }, {}, /auth\.jwt\.publicKey: not a PEM public key/],
    [{ auth: { apiKeys: ['short'] } }, {}, /auth\.apiKeys\.0/],
    [{ auth: { apiKeys: ['same-key-0123456789', 'same-key-0123456789'] } }, {}, /auth\.apiKeys: a key is listed twice/],
    [{ plugins: { 'Bad Name': {} } }, {}, /plugins\.Bad Name: must match pattern/],
    [{ plugins: { x: { enabled: 'yes' } } }, {}, /plugins\.x\.enabled: must be boolean/],
    [{}, { PORT: 'eighty' }, /PORT: must be an integer/],
    [{}, { LOG_LEVEL: 'verbose' }, /^Invalid configuration: LOG_LEVEL \(server\.logLevel\): must be one of/],
    [{}, { JWT_PUBLIC_KEY: 'notapem' }, /^Invalid configuration: JWT_PUBLIC_KEY \(auth\.jwt\.publicKey\): not a PEM public key/],
    [{}, { REDIS_URL: 'http://x' }, /^Invalid configuration: REDIS_URL \(redis\.url\): must match pattern/],
    [{}, { API_KEYS: 'short' }, /API_KEYS \(auth\.apiKeys\.0\)/],
    [{}, { NODE_ENV: 'production' }, /auth\.jwt: no key configured/],
    [[], {}, /must be a JSON object/]
  ]
  for (const [raw, env, pattern] of cases) {
    t.throws(() => resolveConfig(raw, { env }), { code: 'RT_ERR_CONFIG', message: pattern }, JSON.stringify(raw) + ' ' + JSON.stringify(env))
  }
})

t.test('unreadable and malformed files are named', async (t) => {
  t.throws(() => loadConfig(['--config', join(dir, 'missing.json')], {}), { code: 'RT_ERR_CONFIG', message: /cannot read .*missing\.json: ENOENT/ })
  const bad = write('bad.json', '{ "server": ')
  t.throws(() => loadConfig(['--config', bad], {}), { code: 'RT_ERR_CONFIG', message: /bad\.json:1:13 is not valid JSON: Unexpected end of JSON input$/ })
  const comma = write('comma.json', '{\n  "server": {\n    "port": 3000,\n  }\n}\n')
  t.throws(() => loadConfig(['--config', comma], {}), { message: /comma\.json:4:3 is not valid JSON: Expected double-quoted property name$/ }, 'line and column, not a character position')
})

t.test('a problem of the file names its line and column; one of the environment names the variable', async (t) => {
  const file = write('lines.json', '{\n  "server": {\n    "port": "x"\n  },\n  "socketio": { "transports": ["polling", "pigeon"] }\n}\n')
  t.throws(() => loadConfig(['--config', file], {}), { message: /lines\.json:3:5 server\.port: must be integer\n.*lines\.json:5:43 socketio\.transports\.1: must be one of: polling, websocket/ })
  const twoKinds = write('kinds.json', '{\n  "auth": {\n    "jwt": { "secret": "a", "jwksUrl": "https://x" }\n  }\n}\n')
  t.throws(() => loadConfig(['--config', twoKinds], {}), { message: /kinds\.json:3:5 auth\.jwt: set only one of secret, publicKey, jwksUrl/ })
  const ok = write('ok.json', '{ "server": { "port": 4000 } }')
  t.throws(() => loadConfig(['--config', ok], { LOG_LEVEL: 'verbose' }), { message: /^Invalid configuration: LOG_LEVEL \(server\.logLevel\): must be one of: fatal/ }, 'the variable, not the file')
  t.throws(() => loadConfig(['--config', ok], { JWT_PUBLIC_KEY: 'notapem' }), { message: /^Invalid configuration: JWT_PUBLIC_KEY \(auth\.jwt\.publicKey\): not a PEM public key$/ })
  const loaded = loadConfig(['--config', ok], {})
  t.match(loaded.where('server.port'), /ok\.json:1:15$/)
  t.match(loaded.where('server.host'), /ok\.json:1:3$/, 'a key the file does not write: its nearest written ancestor')
  t.ok(loaded.written('server.port'))
  t.notOk(loaded.written('server.host'))
})

t.test('the development secret listens on 127.0.0.1 unless the host is given', async (t) => {
  t.equal(resolveConfig({}, { env: {} }).config.server.host, '127.0.0.1')
  t.equal(resolveConfig({}, { env: { HOST: '0.0.0.0' } }).config.server.host, '0.0.0.0', 'HOST given')
  t.equal(resolveConfig({ server: { host: '0.0.0.0' } }, { env: {} }).config.server.host, '0.0.0.0', 'server.host given')
  const withKey = resolveConfig({}, { env: { JWT_SECRET: 'a-real-secret' } })
  t.equal(withKey.config.server.host, '0.0.0.0', 'a configured key: the schema default')
  t.notOk(withKey.warnings.some((w) => w.code === 'RT_WARN_DEV_LOOPBACK'))
})

t.test('production refuses development keys but accepts configured ones', async (t) => {
  const { config, warnings } = resolveConfig({ auth: { jwt: { secret: 'prod-secret' }, apiKeys: ['prod-key-0123456789'] } }, { env: { NODE_ENV: 'production' } })
  t.equal(config.auth.jwt.secret, 'prod-secret')
  t.same(warnings, [])
  const noKeys = resolveConfig({ auth: { jwt: { secret: 'prod-secret' } } }, { env: { NODE_ENV: 'production' } })
  t.same(noKeys.config.auth.apiKeys, [], 'no development API key in production')
})

t.test('the environment variables are declared on the schema', async (t) => {
  const bindings = envBindings(ServerConfig).map((b) => [b.name, b.path.join('.')])
  t.same(bindings, [
    ['HOST', 'server.host'], ['PORT', 'server.port'], ['LOG_LEVEL', 'server.logLevel'], ['LOG_PRETTY', 'server.logPretty'],
    ['JWT_SECRET', 'auth.jwt.secret'], ['JWT_PUBLIC_KEY', 'auth.jwt.publicKey'], ['JWKS_URL', 'auth.jwt.jwksUrl'],
    ['API_KEYS', 'auth.apiKeys'], ['ADMIN_KEYS', 'admin.keys'], ['REDIS_URL', 'redis.url'],
    ['METRICS_ENABLED', 'metrics.enabled'], ['METRICS_TOKEN', 'metrics.token'], ['METRICS_PORT', 'metrics.port'], ['METRICS_HOST', 'metrics.host']
  ])
  t.equal(resolveConfig({}, { env: { PORT: '' } }).config.server.port, 3000, 'an empty variable is not set')
  t.equal(resolveConfig({}, { env: { LOG_PRETTY: 'true' } }).config.server.logPretty, true)
  t.throws(() => resolveConfig({}, { env: { LOG_PRETTY: '1' } }), /LOG_PRETTY: must be true or false, got "1"/, 'validated at start-up')
})
