import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createVerifier } from 'fast-jwt'
import { deleteRedisPrefix } from '../../src/testing.js'
import { generateKeyPairSync } from 'node:crypto'

// The `realtime-server` command, run as users run it: the compiled dist/src/cli/main.js in a child process (built
// first when a source is newer than the last build), its exit code and what it prints.
const root = process.cwd()
const main = join(root, 'dist/src/cli/main.js')
const dir = mkdtempSync(join(tmpdir(), 'rt-cli-'))
const write = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text)
  return name
}
// The variables that would change the outcome are cleared, as a shell without them.
const CLEAR = { PORT: '', HOST: '', CONFIG: '', REDIS_URL: '', JWT_SECRET: '', JWT_PUBLIC_KEY: '', JWKS_URL: '', API_KEYS: '', LOG_LEVEL: '', LOG_PRETTY: '', NODE_ENV: '', METRICS_PORT: '' }

interface Result { code: number | null, stdout: string, stderr: string }

async function cli (args: string[], env: Record<string, string> = {}, script = main): Promise<Result> {
  const child = spawn(process.execPath, [script, ...args], { cwd: dir, env: { ...process.env, ...CLEAR, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => { child.once('close', (c) => { resolve(c) }) })
  return { code, stdout, stderr }
}

t.setTimeout(15 * 60_000) // a child process per case, on a loaded machine; nothing here measures time

t.before(() => {
  const built = spawnSync(process.execPath, [join(root, 'scripts/build-if-stale.js')], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_execpath: '' } })
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`)
})

t.test('usage errors: one line, a pointer to --help, exit 64', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /^realtime-server: unknown option --bogus \(options go after the command\)\nRun 'realtime-server --help' for usage\.\n$/],
    [['serve'], /^realtime-server: unknown command "serve"\n/],
    [['check', '--foo'], /^realtime-server check: unknown option --foo\nRun 'realtime-server check --help' for usage\.\n$/],
    [['check', 'a.json', 'b.json'], /^realtime-server check: unexpected argument "b\.json"\n/],
    [['check', '--config', 'a.json', 'b.json'], /^realtime-server check: two config files given \("a\.json" with --config and "b\.json"\); give one\n/],
    [['start', '--config'], /^realtime-server start: option '-c, --config <value>' argument missing\n/],
    [['token'], /^realtime-server token: --sub <user id> is required\n/],
    [['token', '--sub', 'u1', '--expires', 'soon'], /^realtime-server token: --expires: "soon" is not a duration/],
    [['token', '--sub', 'u1', '--claim', 'novalue'], /^realtime-server token: --claim: "novalue" is not key=value\n/],
    [['config'], /^realtime-server config: config: a subcommand is required: defaults\n/],
    [['contracts', 'swagger'], /^realtime-server contracts: contracts: unknown kind "swagger"/]
  ]
  const results = await Promise.all(cases.map(async ([args]) => await cli(args)))
  cases.forEach(([args, message], i) => {
    t.equal(results[i]!.code, 64, args.join(' '))
    t.match(results[i]!.stderr, message, args.join(' '))
    t.equal(results[i]!.stdout, '', 'nothing on stdout')
  })
  const bare = await cli([])
  t.equal(bare.code, 64, 'no command: the help, as a usage error')
  t.match(bare.stderr, /^Usage: realtime-server <command>/)
})

t.test('--help and --version answer without starting anything', async (t) => {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
  const [help, commandHelp, ver, viaMain, helpTopic] = await Promise.all([
    cli(['--help']), cli(['check', '--help']), cli(['--version']),
    cli(['--help'], {}, join(root, 'dist/src/main.js')), cli(['help', 'token'])
  ])
  t.equal(help.code, 0)
  for (const command of ['start', 'check', 'token', 'config defaults', 'docs', 'contracts']) t.match(help.stdout, `\n  ${command}`, `lists ${command}`)
  t.match(commandHelp.stdout, /^Usage: realtime-server check \[file\] \[options\]/)
  t.same([ver.code, ver.stdout], [0, `${version}\n`])
  t.equal(viaMain.code, 0, 'node dist/src/main.js --help exits')
  t.match(viaMain.stdout, /^Usage: realtime-server start/, 'and prints the help of start rather than starting the server')
  t.match(helpTopic.stdout, /^Usage: realtime-server token --sub/)
})

t.test('check: the file named (as an argument or --config) is the one checked, plugins\' own checks included', async (t) => {
  const ok = write('ok.json', '{ "plugins": { "presence": {} } }\n')
  const overlap = write('overlap.json', '{\n  "plugins": {\n    "commerce-namespaces": {\n      "options": { "websocket": { "path": "/socket.io/commerce" } }\n    }\n  }\n}\n')
  const lists = write('lists.json', '{\n  "plugins": {\n    "presence": {\n      "options": { "online": [{ "namespace": "/a" }, { "namespace": "/a" }] }\n    }\n  }\n}\n')
  const [valid, byOption, byEnv, ws, two, missing] = await Promise.all([
    cli(['check', ok]), cli(['check', '--config', overlap]), cli(['check'], { CONFIG: lists }), cli(['check', overlap]), cli(['check', lists]),
    cli(['check', 'none.json'])
  ])
  t.equal(valid.code, 0, valid.stderr)
  t.match(valid.stdout, /^warning RT_WARN_DEV_JWT_SECRET: /m, 'the warnings, with their codes')
  t.match(valid.stdout, /\nok\.json: valid \(plugins: presence\)\n$/, 'the file named, not the default')
  for (const r of [byOption, ws]) {
    t.equal(r.code, 78)
    t.equal(r.stderr, 'overlap.json:4:35 plugins.commerce-namespaces.options.websocket.path: "/socket.io/commerce" overlaps socketio.path "/socket.io"\n',
      'the set-up check of the plugin, at the line and column of the key')
  }
  for (const r of [byEnv, two]) {
    t.equal(r.code, 78)
    t.equal(r.stderr, 'lists.json:4:7 plugins.presence.options: two online lists on namespace /a; merge them (one list per namespace)\n')
  }
  t.equal(missing.code, 78)
  t.match(missing.stderr, /^cannot read none\.json: ENOENT\n$/)
})

t.test('check: errors name the file with line and column, or the variable', async (t) => {
  const syntax = write('syntax.json', '{\n  "server": {\n    "port": 3000,\n  }\n}\n')
  const schema = write('schema.json', '{\n  "server": { "port": "x" },\n  "plugins": {\n    "presence": {\n      "options": { "online": [{ "namespace": "/a" }, { "namespace": "b" }] }\n    }\n  }\n}\n')
  const plugin = write('plugin.json', '{\n  "plugins": {\n    "presence": {\n      "options": { "online": [{ "namespace": "/a" }, { "namespace": "b" }] }\n    }\n  }\n}\n')
  const union = write('union.json', '{\n  "plugins": {\n    "sessions": {\n      "options": {\n        "access": { "mode": "bogus" }\n      }\n    }\n  }\n}\n')
  const commerce = write('commerce.json', '{ "plugins": { "commerce-namespaces": { "options": { "namespaces": ["orders"] } } } }\n')
  const [s, sc, pl, un, co, level, pem] = await Promise.all([
    cli(['check', syntax]), cli(['check', schema]), cli(['check', plugin]), cli(['check', union]), cli(['check', commerce]),
    cli(['check'], { LOG_LEVEL: 'verbose' }), cli(['check', plugin], { JWT_PUBLIC_KEY: 'notapem' })
  ])
  t.same([s.code, s.stderr], [78, 'syntax.json:4:3 is not valid JSON: Expected double-quoted property name\n'], 'line and column, not a character position')
  t.same([sc.code, sc.stderr], [78, 'schema.json:2:15 server.port: must be integer\n'])
  t.same([pl.code, pl.stderr], [78, 'plugin.json:4:56 plugins.presence.options.online.1.namespace: must match pattern "^/"\n'], 'plugin options name the file too')
  t.same([un.code, un.stderr], [78, 'union.json:5:21 plugins.sessions.options.access.mode: must be one of: tenant, claim, roles, hook\n'],
    'the union\'s key, not every branch\'s missing keys')
  t.equal(co.code, 78)
  t.match(co.stderr, /^commerce\.json:1:54 plugins\.commerce-namespaces\.options\.namespaces: leaves out "customers", "inventory", "products", "payments", "system", where the default matrix delivers 19 event types/)
  t.ok(co.stderr.length < 400, `short, about what the user wrote (${co.stderr.length} characters)`)
  t.notMatch(co.stderr, /matrix\.customer:activity/, 'no row of the default matrix is blamed')
  t.same([level.code, level.stderr], [78, 'LOG_LEVEL (server.logLevel): must be one of: fatal, error, warn, info, debug, trace, silent\n'], 'the variable, not the file')
  t.same([pem.code, pem.stderr], [78, 'JWT_PUBLIC_KEY (auth.jwt.publicKey): not a PEM public key\n'])
})

t.test('check in production: a warning per trigger that no configured credential can call', async (t) => {
  const file = write('prod.json', '{ "plugins": { "commerce-namespaces": {}, "presence": {} } }\n')
  const nobody = write('nobody.json', '{ "auth": { "publishRoles": [] }, "plugins": { "commerce-namespaces": {} } }\n')
  const [jwtOnly, none, keyed] = await Promise.all([
    cli(['check', file], { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret' }),
    cli(['check', nobody], { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret' }),
    cli(['check', file], { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret', API_KEYS: 'prod-key-0123456789' })
  ])
  t.equal(jwtOnly.code, 0, jwtOnly.stderr)
  const lines = jwtOnly.stdout.split('\n').filter((l) => l.startsWith('warning RT_WARN_TRIGGER_NO_CREDENTIAL'))
  const warned = (prefix: string): string[] => lines.filter((l) => l.includes(` ${prefix}`))
  t.same(warned('/api/commerce-namespaces/'), [
    'warning RT_WARN_TRIGGER_NO_CREDENTIAL: trigger POST /api/commerce-namespaces/events: no API key configured (API_KEYS): only a JWT with role service (auth.publishRoles) can call it; x-api-key calls answer 401. Set API_KEYS (auth.apiKeys) for the services that call this trigger, or list the role their JWT carries in auth.publishRoles.'
  ], 'once, for the publisher route')
  t.same(warned('/api/presence/'), [], 'presence\'s routes take user tokens')
  t.same(lines.map((l) => /trigger (\S+ \S+):/.exec(l)?.[1]).filter((r) => !r!.includes('/api/commerce-namespaces/')).sort(), [
    'GET /api/control/sockets', 'GET /api/webhooks/dead-letters', 'POST /api/control/sockets/disconnect', 'POST /api/control/users/disconnect',
    'POST /api/control/users/join', 'POST /api/control/users/leave', 'POST /api/webhooks/dead-letters/replay'
  ], 'and the core\'s triggers, once each')
  t.match(none.stdout, /trigger POST \/api\/commerce-namespaces\/events: no credential can call it \(no API_KEYS, auth\.publishRoles empty\): every call answers 401 or 403\./)
  t.notMatch(keyed.stdout, /RT_WARN_TRIGGER/, 'an API key can call every trigger')
})

t.test('token: a JWT with the configured claim names, signed with the configured or development secret', async (t) => {
  const claims = write('claims.json', '{ "auth": { "jwt": { "claims": { "tenantId": "org.id" }, "issuer": "me" } } }\n')
  const [dev, configured, named] = await Promise.all([
    cli(['token', '--sub', 'u1', '--tenant', 'acme', '--role', 'admin', '--claim', 'channels=["c1"]', '--claim', 'note=hello', '--expires', '15m']),
    cli(['token', '--sub', 'u2', '--role', 'a', '--role', 'b', '--expires', 'never'], { JWT_SECRET: 'a-configured-secret' }),
    cli(['token', '--sub', 'u3', '--tenant', 't3', '--config', claims])
  ])
  t.equal(dev.code, 0, dev.stderr)
  t.match(dev.stderr, /signed with the development secret/)
  const payload = createVerifier({ key: 'development-only-secret-change-me' })(dev.stdout.trim())
  t.match(payload, { sub: 'u1', tenantId: 'acme', role: 'admin', channels: ['c1'], note: 'hello' })
  t.ok(payload.exp - payload.iat === 900, 'expires in 15 minutes')
  t.equal(configured.code, 0, configured.stderr)
  t.equal(configured.stderr, '')
  const second = createVerifier({ key: 'a-configured-secret' })(configured.stdout.trim())
  t.same(second.role, ['a', 'b'])
  t.equal(second.exp, undefined, '--expires never')
  const third = createVerifier({ key: 'development-only-secret-change-me' })(named.stdout.trim())
  t.match(third, { sub: 'u3', org: { id: 't3' }, iss: 'me' }, 'a dot path claim name is nested')
  const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const refused = await cli(['token', '--sub', 'u1'], { JWT_PUBLIC_KEY: publicKey.replace(/\n/g, '\\n') })
  t.equal(refused.code, 78)
  t.match(refused.stderr, /auth\.jwt: the server verifies tokens with a public key/)
  const unreadable = await cli(['token', '--sub', 'u1', '--config', 'none.json'])
  t.same([unreadable.code, unreadable.stderr], [78, 'cannot read none.json: ENOENT\n'])
})

t.test('contracts: a document of the config named, built without a port', async (t) => {
  const file = write('contracts.json', '{ "plugins": { "presence": {} } }\n')
  const [openapi, bad] = await Promise.all([cli(['contracts', 'openapi', file]), cli(['contracts', 'asyncapi', 'none.json'])])
  t.equal(openapi.code, 0, openapi.stderr)
  t.ok(Object.keys(JSON.parse(openapi.stdout).paths).some((p) => p.startsWith('/api/presence/')), 'the routes of the file\'s plugins')
  t.same([bad.code, bad.stderr], [78, 'cannot read none.json: ENOENT\n'])
})

t.test('config defaults: the full default config as JSON', async (t) => {
  const r = await cli(['config', 'defaults'], { PORT: '4999' })
  t.equal(r.code, 0, r.stderr)
  const config = JSON.parse(r.stdout)
  t.equal(config.server.port, 3000, 'the environment is not applied')
  t.equal(config.server.host, '0.0.0.0')
  t.equal(config.socketio.path, '/socket.io')
  t.same(config.plugins['commerce-namespaces'].options.namespaces, ['orders', 'customers', 'inventory', 'products', 'payments', 'system'], 'plugins\' options too')
  t.equal(config.$schema, undefined)
})

/** Starts `realtime-server start` and resolves with its log lines once it listens, or its exit. */
async function started (args: string[], env: Record<string, string>): Promise<{ logs: Array<Record<string, any>>, stop: () => Promise<void>, exit: Promise<Result> }> {
  const child = spawn(process.execPath, [main, 'start', ...args], { cwd: dir, env: { ...process.env, ...CLEAR, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Array<Record<string, any>> = []
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exit = new Promise<Result>((resolve) => { child.once('close', (code) => { resolve({ code, stdout: '', stderr }) }) })
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try { logs.push(JSON.parse(line)) } catch { return }
      if (logs[logs.length - 1]!.msg === 'realtime server ready') resolve()
    })
    void exit.then(() => { resolve() })
  })
  return { logs, exit, stop: async () => { child.kill('SIGINT'); await exit } }
}

t.test('start: a port in use is one line naming the port and where it was set; exit 1', async (t) => {
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { holder.close() })
  const port = (holder.address() as { port: number }).port
  const file = write('port.json', `{\n  "server": { "port": ${port} }\n}\n`)
  const fromEnv = await started([], { PORT: String(port) })
  const fromFile = await started([file], {})
  const [a, b] = await Promise.all([fromEnv.exit, fromFile.exit])
  t.equal(a.code, 1)
  t.equal(a.stderr, `port ${port} on 127.0.0.1 is already in use (set by PORT=${port}): stop the other process or set PORT (or server.port) to a free port\n`)
  t.equal(b.code, 1)
  t.equal(b.stderr, `port ${port} on 127.0.0.1 is already in use (server.port at port.json:2:15): stop the other process or set PORT (or server.port) to a free port\n`)
})

t.test('start: a host that is not this machine\'s names HOST', async (t) => {
  const r = await started([], { PORT: '0', HOST: '203.0.113.7' })
  const exit = await r.exit
  t.equal(exit.code, 1)
  t.equal(exit.stderr, 'cannot listen on 203.0.113.7, not an address of this machine (set by HOST=203.0.113.7)\n')
})

t.test('start: the development secret listens on 127.0.0.1 unless HOST is set, and says so', async (t) => {
  const dev = await started([], { PORT: '0' })
  t.teardown(dev.stop)
  t.ok(dev.logs.some((l) => l.code === 'RT_WARN_DEV_LOOPBACK' && /listening on 127\.0\.0\.1 only/.test(l.msg)), 'a warning with its code')
  t.ok(dev.logs.some((l) => /^Server listening at http:\/\/127\.0\.0\.1:\d+$/.test(l.msg)), 'on the loopback')
  await dev.stop()
  const explicit = await started([], { PORT: '0', HOST: '0.0.0.0' })
  t.teardown(explicit.stop)
  t.notOk(explicit.logs.some((l) => l.code === 'RT_WARN_DEV_LOOPBACK'))
  t.ok(explicit.logs.some((l) => l.msg === 'realtime server ready' && l.host === '0.0.0.0'), 'HOST given: as asked')
})

t.test('start in production warns once per trigger no credential can call', async (t) => {
  const file = write('prod-start.json', '{ "plugins": { "commerce-namespaces": {} } }\n')
  const prod = await started([file], { PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', JWT_SECRET: 'a-production-secret' })
  t.teardown(prod.stop)
  const warnings = prod.logs.filter((l) => l.code === 'RT_WARN_TRIGGER_NO_CREDENTIAL')
  t.same(warnings.map((l) => /trigger (\S+ \S+):/.exec(l.msg)?.[1]).sort(), [
    'GET /api/control/sockets', 'GET /api/webhooks/dead-letters', 'POST /api/commerce-namespaces/events', 'POST /api/control/sockets/disconnect',
    'POST /api/control/users/disconnect', 'POST /api/control/users/join', 'POST /api/control/users/leave', 'POST /api/webhooks/dead-letters/replay'
  ], 'the plugin\'s trigger and the core\'s, once each')
  t.ok(prod.logs.some((l) => l.msg === 'realtime server ready'))
})

t.test('start loads the packages only some configs use (Redis, JWKS, webhooks) only when the config uses them', async (t) => {
  // Read in the child at exit: the CommonJS modules it loaded, by package.
  const probe = write('loaded-probe.cjs', `process.on('exit', () => {
  const names = Object.keys(require('node:module')._cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1])
  process.stderr.write('LOADED ' + JSON.stringify([...new Set(names)].filter((n) => n !== undefined).sort()) + '\\n')
})\n`)
  const onDemand = ['@fastify/redis', '@socket.io/redis-streams-adapter', 'get-jwks', 'ioredis', 'standardwebhooks']
  const loaded = (stderr: string): string[] => (JSON.parse(/^LOADED (.*)$/m.exec(stderr)?.[1] ?? 'null') as string[]).filter((n) => onDemand.includes(n))
  const memory = await started([], { PORT: '0', NODE_OPTIONS: `--require ./${probe}` })
  await memory.stop()
  t.same(loaded((await memory.exit).stderr), [], 'embedded defaults: none of them')

  const prefix = `rt-cli-ondemand-${process.pid}`
  t.teardown(async () => { await deleteRedisPrefix(prefix) })
  const file = write('on-demand.json', JSON.stringify({
    redis: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: prefix },
    auth: { jwt: { jwksUrl: 'https://issuer.example/.well-known/jwks.json' } },
    webhooks: { endpoints: [{ name: 'backend', url: 'http://127.0.0.1:9/hook', secret: 'whsec_' + Buffer.from('a'.repeat(32)).toString('base64'), events: ['user.online'] }] }
  }))
  const full = await started([file], { PORT: '0', NODE_OPTIONS: `--require ./${probe}` })
  t.ok(full.logs.some((l) => l.msg === 'realtime server ready'), 'started')
  await full.stop()
  t.same(loaded((await full.exit).stderr), onDemand, 'Redis, a JWKS URL and an endpoint configured: each loaded')
})
