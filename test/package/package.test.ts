/**
 * The package as a plugin author gets it: `npm pack`, installed into projects outside the repository, with plugins
 * of their own in JavaScript (by package name) and TypeScript (compiled by the project's tsc against the installed
 * types, by path), the server started from the installed package, real clients, a graceful SIGTERM.
 *
 * The hello-plugin README's steps (```sh step=...```) run as written: `/tmp` is this test's folder, port 3000 a free
 * port (set through PORT, as the README says). One pack for the whole file, from a copy of the checkout: `npm pack`
 * rebuilds dist/ (prepack).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { io } from 'socket.io-client'
import { eventually, freePort, signToken, waitFor } from 'realtime-server/testing'

t.setTimeout(20 * 60_000) // npm install and tsc, twice, on a loaded machine; nothing here measures time

const repo = process.cwd()
const work = mkdtempSync(join(tmpdir(), 'rt-package-'))
t.teardown(() => { rmSync(work, { recursive: true, force: true }) })
const tarball = join(work, `realtime-server-${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}.tgz`)

/**
 * The server command with a config file, run from a project's folder: the package's `realtime-server` bin, run
 * directly (npx would not pass SIGTERM on: it exits 143 and leaves the server running).
 */
const START = (config: string): [string, string[]] => ['node_modules/.bin/realtime-server', ['start', '--config', config]]
const INSTALL_FLAGS = '--prefer-offline --no-audit --no-fund'

/** The environment of a user's shell: no test loader, no npm script variables, no server settings of ours. */
function userEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|TAP|NODE_OPTIONS$|NODE_V8_COVERAGE$|PORT$|HOST$|CONFIG$|REDIS_URL$|JWT_|API_KEYS$|ADMIN_KEYS$|LOG_|TOKEN$)/.test(k)) continue
    env[k] = v
  }
  return { ...env, ...extra }
}

const bash = async (script: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number, out: string }> =>
  await new Promise((resolve) => {
    execFile('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env: userEnv(env), timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}${stderr}` })
    })
  })

/** A long-running command (server, client), its output as lines, its exit. */
interface Running { child: ChildProcess, out: string[], exited: Promise<number | string | null>, stop: () => Promise<number | string | null> }

function run (command: string, args: string[], cwd: string, env: Record<string, string> = {}): Running {
  const child = spawn(command, args, { cwd, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const out: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => out.push(l))
  createInterface({ input: child.stderr! }).on('line', (l) => out.push(l))
  const exited = new Promise<number | string | null>((resolve) => { child.once('close', (code, signal) => { resolve(code ?? signal) }) })
  const stop = async (): Promise<number | string | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return await exited
  }
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return { child, out, exited, stop }
}

const printed = async (p: Running, what: string, match: (line: string) => boolean): Promise<string> =>
  await eventually(what, () => p.out.find(match) ?? (p.child.exitCode !== null ? Promise.reject(new Error(`exited before ${what}:\n${p.out.join('\n')}`)) : undefined), { timeoutMs: 60_000 })

/** The README's ```sh step=<name>``` blocks, by name. */
function steps (file: string): Map<string, string> {
  const found = new Map<string, string>()
  const blocks = readFileSync(file, 'utf8').matchAll(/^```sh step=(\S+)\n([\s\S]*?)^```$/gm)
  for (const [, name, code] of blocks) found.set(name!, code!)
  return found
}

/** A README command with the test's folder for /tmp and the server's port for localhost:3000. */
const asWritten = (code: string, port?: number): string => {
  let s = code.replace(/\/tmp(?=[/\s]|$)/g, work)
  if (port !== undefined) s = s.replaceAll('localhost:3000', `127.0.0.1:${port}`)
  return s
}

/** The one command of a block (comments dropped), exec'd by bash so that the signal reaches it. */
const oneCommand = (code: string): string => {
  const lines = code.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
  if (lines.length !== 1) throw new Error(`expected one command in:\n${code}`)
  return lines[0]!
}

const hello = steps('examples/hello-plugin/README.md')

/**
 * A copy of the checkout to pack from: `npm pack` rebuilds dist/ (prepack), which other test files running at the
 * same time read in the checkout itself. The copy shares node_modules (a link) and has everything the build reads.
 */
function checkoutCopy (): string {
  const copy = join(work, 'checkout')
  mkdirSync(copy)
  for (const entry of readdirSync(repo)) {
    if (['node_modules', 'dist', '.git', '.tap', 'coverage'].includes(entry)) continue
    cpSync(join(repo, entry), join(copy, entry), { recursive: true })
  }
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'), 'dir')
  return copy
}

t.before(async () => {
  const packed = await bash(asWritten(hello.get('pack')!), checkoutCopy())
  if (packed.code !== 0 || !existsSync(tarball)) throw new Error(`the README's pack step failed (${packed.code}):\n${packed.out}`)
})

t.test('the tarball holds what the installed server reads, and no sources or tests', async (t) => {
  const { code, out } = await bash(`tar tzf ${tarball}`, work)
  t.equal(code, 0)
  const files = out.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''))
  for (const f of ['package.json', 'README.md', 'dist/src/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/testing.js', 'dist/src/testing.d.ts',
    'dist/plugins/tenant-broadcast/index.js', 'dist/src/core/inspector/page/inspector.html', 'config/default.json', 'config/schema.json',
    'examples/hello-plugin/index.ts', 'examples/quickstart/client.mjs', 'examples/quickstart/token.mjs', 'docs/writing-plugins.md']) {
    t.ok(files.includes(f), `${f} is in the package`)
  }
  t.same(files.filter((f) => /^(src|test|bench|deploy)\/|\.map$|\.test\./.test(f)), [], 'no sources, tests, benchmarks or source maps')
})

t.test('the hello-plugin README, followed as written outside the repository', async (t) => {
  const project = join(work, 'hello-server')
  const setup = await bash(asWritten(hello.get('project')!), work)
  t.equal(setup.code, 0, setup.code === 0 ? 'the project step succeeds' : `the project step fails:\n${setup.out}`)
  t.ok(existsSync(join(project, 'dist/plugins/hello/index.js')), 'tsc compiled the plugin')

  const port = await freePort()
  const server = run('bash', ['-c', `exec ${oneCommand(hello.get('server')!)}`], project, { PORT: String(port), HOST: '127.0.0.1' })
  await printed(server, 'the server is ready', (l) => l.includes('realtime server ready'))
  t.match(server.out.find((l) => l.includes('realtime server ready')), /"plugins":\["hello"\]/, 'it runs the compiled plugin')

  const client = run('bash', ['-c', `exec ${oneCommand(asWritten(hello.get('client')!, port))}`], project)
  await printed(client, 'the client connects', (l) => l.startsWith('connected to'))
  t.ok(client.out.some((l) => l.startsWith('TOKEN is unset: using a development token')), 'the client says which token it uses')

  const trigger = await bash(asWritten(hello.get('trigger')!, port), project)
  t.equal(trigger.code, 0)
  t.match(trigger.out, /"recipients":1/, 'the announcement reached the client')
  const line = await printed(client, 'the client prints the announcement', (l) => l.startsWith('hello:announcement'))
  t.match(line, /^hello:announcement \{"text":"up"\} \{"eventId":/)

  t.equal(await client.stop(), 0, 'the client exits 0 on SIGTERM')
  t.equal(await server.stop(), 0, 'the server exits 0 on SIGTERM')

  // The README's first mistake: a config naming the TypeScript sources. The server says what to do.
  writeFileSync(join(project, 'sources.json'), JSON.stringify({ plugins: { hello: { from: './plugins/hello' } } }))
  const sources = run(...START('sources.json'), project, { PORT: String(port), HOST: '127.0.0.1' })
  t.equal(await sources.exited, 78, 'the server refuses to start (EX_CONFIG)')
  const said = sources.out.join('\n')
  t.match(said, 'Unknown file extension ".ts"')
  t.match(said, 'compile the plugin (tsc) and point plugins.hello.from at the compiled .js')
})

t.test('third-party plugins in JavaScript (by package name) and TypeScript (by path) on the installed package', async (t) => {
  const project = join(work, 'third-party')
  mkdirSync(join(project, 'echo-js'), { recursive: true })
  mkdirSync(join(project, 'plugins/count-ts'), { recursive: true })
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'third-party', private: true, type: 'module' }))

  // A plugin package in plain JavaScript, installed into the project by name.
  writeFileSync(join(project, 'echo-js/package.json'), JSON.stringify({
    name: 'echo-js', version: '1.0.0', type: 'module', exports: { '.': './index.js' }, peerDependencies: { 'realtime-server': '*' }
  }))
  writeFileSync(join(project, 'echo-js/index.js'), `import { definePlugin, Type } from 'realtime-server'

export const options = Type.Object({ prefix: Type.String({ default: 'echo' }) }, { additionalProperties: false })
const Say = Type.Object({ text: Type.String({ minLength: 1 }) }, { additionalProperties: false })

export default definePlugin({
  name: 'echo-js',
  options,
  events: { client: { 'echo:say': { payload: Say, ack: Type.Object({ text: Type.String() }) } }, server: { 'echo:said': Say } },
  setup (app, opts) {
    const ns = app.realtime.namespace('/')
    ns.handle('echo:say', Say, (ctx, { text }) => ({ text: opts.prefix + ': ' + text }))
    app.realtime.trigger('/say', { body: Say, tenant: true }, async (request) =>
      await ns.publish({ tenantId: request.tenantId, event: 'echo:said', payload: { text: request.body.text }, count: true }))
  }
})
`)

  // A plugin in TypeScript, type-checked against the installed declarations. The @ts-expect-error lines fail the
  // compilation if the types were missing (any): an unknown option and a wrong payload field must be errors.
  writeFileSync(join(project, 'plugins/count-ts/index.ts'), `import { definePlugin, Type, type Static } from 'realtime-server'

export const options = Type.Object({ step: Type.Integer({ default: 1, minimum: 1 }) }, { additionalProperties: false })
const Add = Type.Object({ counter: Type.String({ minLength: 1 }) }, { additionalProperties: false })
const Counted = Type.Object({ counter: Type.String(), value: Type.Integer() })
type Counted = Static<typeof Counted>

export default definePlugin({
  name: 'count-ts',
  options,
  events: { client: { 'count:add': { payload: Add, ack: Counted } }, server: { 'count:changed': Counted } },
  setup (app, opts) {
    const step: number = opts.step
    // @ts-expect-error: not an option of this plugin
    void opts.nope
    const ns = app.realtime.namespace('/')
    ns.handle('count:add', Add, async (ctx, { counter }): Promise<Counted> => {
      // @ts-expect-error: not a field of the identity
      void ctx.user.nope
      const value = await app.realtime.store.increment(ctx.user.tenantId + ':' + counter, step)
      return { counter, value }
    })
    app.realtime.trigger('/changed', { body: Counted, tenant: true }, async (request) =>
      await ns.publish({ tenantId: request.tenantId, event: 'count:changed', payload: request.body, count: true }))
  }
})
`)
  // A test of the author's own, with the test kit of the installed package.
  writeFileSync(join(project, 'plugins/count-ts/check.ts'), `import { startServer } from 'realtime-server/testing'
import plugin from './index.js'

const server = await startServer({ plugins: [{ plugin, options: { step: 2 } }] })
const socket = await server.connect('/', { token: server.token({ sub: 'ada', tenantId: 'acme' }) })
console.log(JSON.stringify(await server.emitWithAck(socket, 'count:add', { counter: 'c' })))
await server.close()
`)
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', target: 'es2023', strict: true, skipLibCheck: true, rootDir: '.', outDir: 'dist' },
    include: ['plugins']
  }))
  writeFileSync(join(project, 'config.json'), JSON.stringify({
    plugins: { 'echo-js': { from: 'echo-js', options: { prefix: 'js' } }, 'count-ts': { from: './dist/plugins/count-ts', options: { step: 5 } } }
  }))

  const install = await bash(`npm install ${tarball} ./echo-js socket.io-client@4.8 typescript@6 ${INSTALL_FLAGS}`, project)
  t.equal(install.code, 0, install.code === 0 ? 'npm install succeeds' : `npm install fails:\n${install.out}`)
  const tsc = await bash('npx tsc', project)
  t.equal(tsc.code, 0, tsc.code === 0 ? 'the TypeScript plugin compiles against the installed types' : `tsc fails:\n${tsc.out}`)
  const check = await bash('node dist/plugins/count-ts/check.js', project)
  t.equal(check.code, 0, check.code === 0 ? 'the test kit runs in the project' : `the test kit fails:\n${check.out}`)
  t.match(check.out, '{"counter":"c","value":2}', 'realtime-server/testing started a server with the plugin')

  const secret = 'third-party-secret-0123456789abcdef'
  const port = await freePort()
  const server = run(...START('config.json'), project, { PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: secret, API_KEYS: 'third-party-api-key-0123456789' })
  await printed(server, 'the server is ready', (l) => l.includes('realtime server ready'))
  t.match(server.out.find((l) => l.includes('realtime server ready')), /"plugins":\["echo-js","count-ts"\]/)
  t.notOk(server.out.some((l) => l.includes('fast broadcast off')), 'a consumer\'s install resolves the versions fast broadcast was tested with (package.json overrides do not reach it)')

  const socket = io(`http://127.0.0.1:${port}`, { auth: { token: signToken({ sub: 'ada', tenantId: 'acme' }, { secret }) }, transports: ['websocket'], reconnection: false, forceNew: true })
  t.teardown(() => { socket.disconnect() })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })

  t.same(await socket.timeout(15_000).emitWithAck('echo:say', { text: 'hi' }), { text: 'js: hi' }, 'the JavaScript plugin acks')
  t.same(await socket.timeout(15_000).emitWithAck('count:add', { counter: 'c' }), { counter: 'c', value: 5 }, 'the TypeScript plugin acks')
  t.match(await socket.timeout(15_000).emitWithAck('echo:say', { text: 7 }), { error: { code: 'RT_ERR_VALIDATION', field: 'text' } }, 'payloads are validated')

  const post = async (path: string, body: unknown): Promise<{ status: number, body: any }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'x-api-key': 'third-party-api-key-0123456789', 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, body: await res.json() }
  }
  const said = waitFor(socket, 'echo:said')
  t.match(await post('/api/echo-js/say', { tenantId: 'acme', text: 'from the backend' }), { status: 200, body: { recipients: 1 } })
  t.same((await said)[0], { text: 'from the backend' }, 'the JavaScript plugin\'s trigger published')
  const changed = waitFor(socket, 'count:changed')
  t.match(await post('/api/count-ts/changed', { tenantId: 'acme', counter: 'c', value: 9 }), { status: 200, body: { recipients: 1 } })
  t.same((await changed)[0], { counter: 'c', value: 9 }, 'the TypeScript plugin\'s trigger published')

  socket.disconnect()
  t.equal(await server.stop(), 0, 'the server exits 0 on SIGTERM')
})
