/**
 * The quick start's client and token scripts (examples/quickstart), run as README.md shows them and from another
 * folder: a client that prints what it receives, and says why when it cannot connect (exit 1), never silently.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { eventually, freePort, signToken, startServer, TEST_API_KEY, TEST_SECRET } from 'realtime-server/testing'

const client = resolve('examples/quickstart/client.mjs')
const token = resolve('examples/quickstart/token.mjs')
const elsewhere = mkdtempSync(join(tmpdir(), 'rt-quickstart-'))
t.teardown(() => { rmSync(elsewhere, { recursive: true, force: true }) })

/** A shell without the test's loader or our server settings. */
const shellEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  for (const k of ['NODE_OPTIONS', 'TOKEN', 'JWT_SECRET', 'SOCKETIO_PATH']) delete env[k]
  return { ...env, ...extra }
}

interface Running { child: ChildProcess, out: string[], exited: Promise<number | string | null> }

function run (args: string[], cwd: string, env: Record<string, string> = {}, command = process.execPath): Running {
  const child = spawn(command, args, { cwd, env: shellEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const out: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => out.push(l))
  createInterface({ input: child.stderr! }).on('line', (l) => out.push(l))
  const exited = new Promise<number | string | null>((resolve) => { child.once('close', (code, signal) => { resolve(code ?? signal) }) })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return { child, out, exited }
}

const printed = async (p: Running, what: string, match: (line: string) => boolean): Promise<string> =>
  await eventually(what, () => p.out.find(match) ?? (p.child.exitCode !== null ? Promise.reject(new Error(`exited before ${what}:\n${p.out.join('\n')}`)) : undefined), { timeoutMs: 30_000 })

const sh = async (script: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> =>
  await new Promise((resolve) => {
    execFile('bash', ['-e', '-c', script], { cwd, env: shellEnv(env) }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })

// README.md's "Try it" commands that use the scripts, as written.
const readme = readFileSync('README.md', 'utf8')
const tryIt = readme.split('\n').filter((l) => l.includes('examples/quickstart/') && !l.trimStart().startsWith('#') && !l.includes('`'))

t.test('README runs the scripts with the commands tested here', async (t) => {
  t.ok(tryIt.some((l) => /^node examples\/quickstart\/client\.mjs http:\/\/localhost:3000\b/.test(l)), 'the client command')
  t.ok(tryIt.some((l) => l.startsWith('TOKEN=$(node examples/quickstart/token.mjs --sub u2 --tenant acme) node examples/quickstart/client.mjs')), 'the token command')
})

t.test('the client prints the events a trigger publishes; the README\'s token command mints a token the server accepts', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  // As in README.md, from the checkout: TOKEN from the token script, signed with the server's JWT_SECRET.
  const command = tryIt.find((l) => l.startsWith('TOKEN=$('))!.replaceAll('localhost:3000', `127.0.0.1:${server.port}`)
  const p = run(['-c', `exec ${command.replace(/^TOKEN=\$\((.*?)\) /, 'env TOKEN="$($1)" ')}`], process.cwd(), { JWT_SECRET: TEST_SECRET }, 'bash')
  await printed(p, 'the client connects', (l) => l.startsWith(`connected to http://127.0.0.1:${server.port} as `))
  t.notOk(p.out.some((l) => l.includes('TOKEN is unset')), 'it used the token it was given (the server refuses the development one)')

  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: TEST_API_KEY, body: { tenantId: 'acme', type: 'contact_deleted', payload: { contactId: 'c1', tenantId: 'acme' } } })
  t.equal(res.status, 200)
  const line = await printed(p, 'the client prints the event', (l) => l.startsWith('contact_deleted '))
  t.match(line, /^contact_deleted \{"contactId":"c1","tenantId":"acme"\} \{"eventId":"[^"]+","timestamp":\d+\}$/)
  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0, 'Ctrl-C / SIGTERM ends it with 0')
})

t.test('from another folder, without TOKEN, against a server with its own secret: the error, its code, exit 1', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const p = run([client, server.url], elsewhere)
  t.equal(await p.exited, 1, 'exits 1')
  t.ok(p.out.includes('TOKEN is unset: using a development token (user u1, tenant acme, role admin) signed with the development secret; a server with its own JWT_SECRET refuses it'), 'says which token it used')
  t.ok(p.out.includes('connect_error: Authentication failed: Invalid token (RT_ERR_AUTH_INVALID_TOKEN): the server refused the token: set TOKEN to one signed with its JWT_SECRET'), 'prints the connect error, its code and a hint')
})

t.test('an expired token: the error and its code, exit 1', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const p = run([client, server.url], elsewhere, { TOKEN: signToken({ sub: 'u1', tenantId: 'acme' }, { expiresIn: -60 }) })
  t.equal(await p.exited, 1)
  t.match(p.out.join('\n'), /^connect_error: Authentication failed: Token expired \(RT_ERR_AUTH_\w+\): /m, 'prints the connect error and its code')
})

t.test('no server: says where it tried, exit 1', async (t) => {
  const port = await freePort()
  const p = run([client, `http://127.0.0.1:${port}`], elsewhere, { TOKEN: 'x' })
  t.equal(await p.exited, 1)
  t.ok(p.out.includes(`connect_error: websocket error: is a server listening at http://127.0.0.1:${port}?`), 'prints the connect error and where it tried')
})

t.test('a copy of the script with no socket.io-client near it: says what to install, exit 1', async (t) => {
  const dir = mkdtempSync(join(elsewhere, 'copy-'))
  copyFileSync(client, join(dir, 'client.mjs'))
  copyFileSync(token, join(dir, 'token.mjs'))
  const p = run([join(dir, 'client.mjs')], elsewhere)
  t.equal(await p.exited, 1)
  t.match(p.out.join('\n'), /socket\.io-client is not installed where .*client\.mjs can find it: run `npm install socket\.io-client@4\.8`/)
})

t.test('the token script: a token for the given user and tenant, signed with JWT_SECRET; usage without arguments', async (t) => {
  const minted = await sh(`node ${token} --sub u9 --tenant t1 --role agent`, elsewhere, { JWT_SECRET: TEST_SECRET })
  t.equal(minted.code, 0)
  t.equal(minted.stderr, '', 'no warning with JWT_SECRET set')
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: minted.stdout.trim() })
  t.ok(socket.connected, 'the server accepts it')

  const dev = await sh(`node ${token} --sub u1 --tenant acme`, elsewhere)
  t.equal(dev.code, 0)
  t.match(dev.stderr, 'JWT_SECRET is unset: signed with the development secret')
  const usage = await sh(`node ${token}`, elsewhere)
  t.equal(usage.code, 2)
  t.match(usage.stderr, 'usage: node token.mjs --sub <user> --tenant <tenant>')
})
