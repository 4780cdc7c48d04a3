// Typed client definitions: the CLI writes them for a config; a client program compiles against them, and fails with a wrong event name or payload field.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = process.cwd()

/** Runs a command to its end: its exit code and output. */
async function run (command: string, args: string[]): Promise<{ code: number | null, out: string }> {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' } })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, out }
}

/**
 * A config with hello-plugin and `plugins` in a folder under node_modules (so that a program there resolves
 * socket.io-client as a user's project would), removed at teardown.
 */
function configIn (t: Test, plugins: Record<string, object>): { dir: string, config: string } {
  const cache = join(root, 'node_modules', '.cache')
  mkdirSync(cache, { recursive: true })
  const dir = mkdtempSync(join(cache, 'contracts-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({
    auth: { jwt: { secret: 'a-secret-of-enough-length-0123' }, apiKeys: ['key-0123456789abcdef'] },
    plugins: { hello: { from: resolve(root, 'examples/hello-plugin') }, ...plugins }
  }))
  return { dir, config }
}

t.setTimeout(15 * 60_000) // tsc compiles a client, twice, on a loaded machine; nothing here measures time

t.test('contracts client-types writes socket.io-client generics that catch a wrong event and a wrong field', async (t) => {
  const { dir, config } = configIn(t, { 'chat-messages': {}, 'commerce-namespaces': {} })
  const types = join(dir, 'realtime-client.d.ts')
  const cli = await run(process.execPath, [...process.execArgv, join(root, 'src/cli/contracts.ts'), 'client-types', '--config', config, '--out', types])
  t.equal(cli.code, 0, cli.out)
  const text = readFileSync(types, 'utf8')
  t.match(text, /export interface RootClientToServerEvents/)
  t.match(text, /export interface OrdersServerToClientEvents/)
  t.match(text, /export type CommerceNamespacesWebSocketServerMessage/)

  const header = [
    "import { io, type Socket } from 'socket.io-client'",
    "import type { RootClientToServerEvents, RootServerToClientEvents, OrdersServerToClientEvents, OrdersClientToServerEvents, CommerceNamespacesWebSocketServerMessage } from './realtime-client.js'",
    "const socket: Socket<RootServerToClientEvents, RootClientToServerEvents> = io('http://localhost:3000', { auth: { token: 'jwt' } })",
    ''
  ].join('\n')
  writeFileSync(join(dir, 'good.ts'), header + [
    "socket.emit('hello', { name: 'Ada' }, (reply) => { if ('error' in reply) console.log(reply.error.code === 'RT_HELLO_TOO_MANY'); else console.log(reply.text, reply.count + 1) })",
    "socket.on('hello:greeted', (payload, meta) => { console.log(payload.name.toUpperCase(), meta.eventId, meta.timestamp + 1) })",
    "socket.emit('channel:join', { channelId: 'c1' }, (reply) => { console.log(reply) })",
    "const orders: Socket<OrdersServerToClientEvents, OrdersClientToServerEvents> = io('http://localhost:3000/orders')",
    "orders.on('order:created', (payload) => { console.log(payload) })",
    'export function onMessage (m: CommerceNamespacesWebSocketServerMessage): string { return m.type === \'pong\' ? String(m.timestamp) : m.type }',
    ''
  ].join('\n'))
  writeFileSync(join(dir, 'bad-event.ts'), header + "socket.emit('helo', { name: 'Ada' }, () => {})\n")
  writeFileSync(join(dir, 'bad-field.ts'), header + "socket.emit('hello', { nam: 'Ada' }, () => {})\n")
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: true, types: [] },
    files: ['good.ts', 'bad-event.ts', 'bad-field.ts']
  }))
  const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')])
  const errors = tsc.out.split('\n').filter((l) => /error TS\d+/.test(l))
  t.same(errors.filter((l) => l.startsWith('good.ts') || l.includes('/good.ts')), [], 'the correct program compiles')
  t.ok(errors.some((l) => l.includes('bad-event.ts') && l.includes('"helo"')), 'a wrong event name fails')
  t.ok(errors.some((l) => l.includes('bad-field.ts') && l.includes('nam')), 'a wrong payload field fails')
  t.equal(errors.length, errors.filter((l) => l.includes('bad-')).length, tsc.out)
})

t.test('contracts writes the OpenAPI and AsyncAPI documents of a config to stdout, and refuses an unknown kind', async (t) => {
  const { dir, config } = configIn(t, {})
  const cli = join(root, 'src/cli/contracts.ts')
  const openapi = await run(process.execPath, [...process.execArgv, cli, 'openapi', '--config', config])
  t.equal(openapi.code, 0, openapi.out)
  t.ok(JSON.parse(openapi.out).paths['/api/hello/announce'].post, 'the hello route')
  const asyncapi = await run(process.execPath, [...process.execArgv, cli, 'asyncapi', '--config', config, '--host', 'rt.example.com:443'])
  t.equal(asyncapi.code, 0, asyncapi.out)
  const doc = JSON.parse(asyncapi.out)
  t.equal(doc.servers.socketio.host, 'rt.example.com:443')
  t.ok(doc.operations['ns.root.receive.hello'])
  const bad = await run(process.execPath, [...process.execArgv, cli, 'swagger'])
  t.equal(bad.code, 2)
  t.match(bad.out, /usage: contracts <openapi\|asyncapi\|client-types>/)
  const missing = await run(process.execPath, [...process.execArgv, cli, 'asyncapi', '--config', join(dir, 'none.json')])
  t.equal(missing.code, 1)
  t.match(missing.out, /cannot read/)
})
