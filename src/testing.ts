/**
 * Helpers for plugin authors' tests (and this repository's): a real server on a loopback port, tokens,
 * real socket.io-client connections, events awaited. Nothing is mocked. Requires `socket.io-client`.
 *
 * @example
 * const server = await startServer({ config: { plugins: { hello: { from: './my-plugin' } } } })
 * const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 't1' }) })
 * const [reply] = await server.emitWithAck(socket, 'hello', { name: 'Ada' })
 * await server.close()
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createSigner } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { io as ioClient, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from 'socket.io-client'
import type { DestinationStream } from 'pino'
import { buildApp } from './app.js'
import { resolveConfig } from './config/load.js'
import type { ServerConfig } from './config/schema.js'
import { loadPlugins, orderByDependencies, validateOptions, type LoadedPlugin } from './core/plugins/loader.js'
import type { RedisPrimitives } from './core/plugins/api.js'
import { definePlugin, type RealtimePlugin } from './core/plugins/define.js'
import { Type } from 'typebox'

export type { ClientSocket }
export { storeConformance, type ConformanceAssert } from './core/store/conformance.js'

/** The HS256 secret and API key of test servers. */
export const TEST_SECRET = 'test-secret-0123456789abcdef'
export const TEST_API_KEY = 'test-api-key-0123456789'

/** The Redis URL of tests: `REDIS_URL`, else the local server. */
export const testRedisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

type Json = Record<string, any>

export interface StartOptions {
  /** Raw config (as in a config file); test defaults fill auth and logging. */
  config?: Json
  /** Plugin objects to load besides `config.plugins`, with their options. */
  plugins?: Array<{ plugin: RealtimePlugin<any>, options?: Json }>
  /** Use Redis: `true` for the test Redis with a fresh key prefix (deleted on close), or a key prefix to share with another server. */
  redis?: boolean | string
  /** Directory relative plugin paths start from. */
  baseDir?: string
  logStream?: DestinationStream
}

export interface TokenOptions {
  /** Seconds until expiry; 3600 by default, negative for an expired token, `null` for none. */
  expiresIn?: number | null
  secret?: string
  algorithm?: 'HS256' | 'HS384' | 'HS512'
}

export interface ConnectOptions extends Partial<ManagerOptions & SocketOptions> {
  token?: string
}

export interface TestServer {
  readonly app: FastifyInstance
  readonly url: string
  readonly port: number
  readonly config: Readonly<ServerConfig>
  /** The Redis key prefix, when on Redis. */
  readonly keyPrefix: string | undefined
  /** Mints a JWT (HS256 with the test secret by default). */
  token (claims: Json, options?: TokenOptions): string
  /** Connects a client and resolves once connected; rejects with the `connect_error`. */
  connect (namespace?: string, options?: ConnectOptions): Promise<ClientSocket>
  /** A client that is not awaited (for `connect_error` assertions). */
  client (namespace?: string, options?: ConnectOptions): ClientSocket
  /** `emitWithAck` with a timeout. */
  emitWithAck (socket: ClientSocket, event: string, ...args: unknown[]): Promise<any>
  /** HTTP with JSON; `apiKey: true` sends the test key. */
  request (method: string, path: string, options?: { body?: unknown, apiKey?: string | true, token?: string, headers?: Record<string, string> }): Promise<{ status: number, body: any }>
  close (): Promise<void>
}

const sockets = new WeakMap<TestServer, Set<ClientSocket>>()

/** Test defaults under the given raw config. */
export function testConfig (raw: Json = {}, redis?: { url: string, keyPrefix: string }): Json {
  const jwt = { secret: TEST_SECRET, ...(raw.auth?.jwt ?? {}) }
  if (raw.auth?.jwt?.publicKey !== undefined || raw.auth?.jwt?.jwksUrl !== undefined) delete jwt.secret
  return {
    ...raw,
    server: { logLevel: process.env.LOG_LEVEL ?? 'silent', ...(raw.server ?? {}), host: '127.0.0.1', port: 0 },
    auth: { apiKeys: [TEST_API_KEY], ...(raw.auth ?? {}), jwt },
    redis: redis === undefined ? (raw.redis ?? {}) : { ...(raw.redis ?? {}), url: redis.url, keyPrefix: redis.keyPrefix, adapter: { blockTimeInMs: 50, ...(raw.redis?.adapter ?? {}) } }
  }
}

/** Deletes every key under a prefix (test cleanup). */
export async function deleteRedisPrefix (prefix: string, url = testRedisUrl()): Promise<void> {
  const redis = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** A free TCP port on 127.0.0.1 (for a redis-server of a test's own). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => { resolve(port) })
    })
  })
}

/**
 * Starts a redis-server of a fault test's own on `port` (never the shared one on 6379), keeping nothing on disk,
 * and resolves once it answers PING; stop it with `killRedisServer`.
 *
 * @example
 * const port = await freePort()
 * let redis = await startRedisServer(port)
 * await killRedisServer(redis)          // what clients and backends see when Redis vanishes
 * redis = await startRedisServer(port)  // and when it comes back
 */
export async function startRedisServer (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const client = new Redis({ port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await eventually('redis-server answers', async () => {
      try {
        if (client.status !== 'ready') await client.connect()
        return await client.ping() === 'PONG'
      } catch {
        client.disconnect()
        return false
      }
    }, { timeoutMs: 10_000 })
  } finally {
    client.disconnect()
  }
  return child
}

/** Kills (SIGKILL) a redis-server started by `startRedisServer` and resolves once it exited. */
export async function killRedisServer (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

/**
 * The Redis primitives (`realtime.redis`) a plugin named `plugin` gets, from a server of its own on the test Redis
 * (a fresh key prefix with `true`, or the given one to share keys with other servers), closed by `t`'s teardown:
 * for testing a plugin's Redis store, or acting on its keys as another node would.
 *
 * @example
 * const redis = await pluginRedis(t, 'presence', server.keyPrefix)
 * const store = new RedisPresenceStore(redis, options)
 */
export async function pluginRedis (t: { teardown: (fn: () => unknown) => void }, plugin: string, redis: true | string = true): Promise<RedisPrimitives> {
  let primitives: RedisPrimitives | undefined
  const fixture = definePlugin({ name: plugin, options: Type.Object({}), setup (app) { primitives = app.realtime.redis } })
  const server = await startServer({ redis, plugins: [{ plugin: fixture }] })
  t.teardown(async () => { await server.close() })
  if (primitives === undefined) throw new Error(`the server for "${plugin}" got no Redis primitives`)
  return primitives
}

/** Starts a server on 127.0.0.1 and a free port. */
export async function startServer (options: StartOptions = {}): Promise<TestServer> {
  const ownPrefix = options.redis === true
  const keyPrefix = options.redis === undefined || options.redis === false ? undefined : ownPrefix ? `test-${randomUUID().slice(0, 8)}` : options.redis as string
  const { config } = resolveConfig(testConfig(options.config, keyPrefix === undefined ? undefined : { url: testRedisUrl(), keyPrefix }), { source: 'test config' })
  const baseDir = options.baseDir ?? process.cwd()
  const extra: LoadedPlugin[] = (options.plugins ?? []).map(({ plugin, options: o }) => {
    const def = plugin.definition
    return { name: def.name, plugin, options: validateOptions(def.name, def.options, o ?? {}), optionsSchema: def.options, dependencies: def.dependencies ?? [], source: '(test)' }
  })
  const plugins = orderByDependencies([...await loadPlugins(config.plugins, baseDir), ...extra])
  const app = await buildApp(config, { plugins, logStream: options.logStream })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const url = `http://127.0.0.1:${port}`
  const path = config.socketio.path

  const server: TestServer = {
    app,
    url,
    port,
    config,
    keyPrefix,
    token: (claims, o = {}) => signToken(claims, o),
    client (namespace = '/', o = {}) {
      const { token, ...rest } = o
      const socket = ioClient(url + namespace, { path, transports: ['websocket'], reconnection: false, forceNew: true, ...rest, auth: { ...(token === undefined ? {} : { token }), ...(rest.auth as Json | undefined) } })
      sockets.get(server)!.add(socket)
      return socket
    },
    async connect (namespace = '/', o = {}) {
      const socket = server.client(namespace, o)
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('connect_error', reject)
      })
      return socket
    },
    async emitWithAck (socket, event, ...args) {
      return await socket.timeout(15_000).emitWithAck(event, ...args)
    },
    async request (method, p, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) }
      if (o.body !== undefined) headers['content-type'] = 'application/json'
      if (o.apiKey !== undefined) headers['x-api-key'] = o.apiKey === true ? TEST_API_KEY : o.apiKey
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
      const res = await fetch(url + p, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) })
      const text = await res.text()
      let body: unknown = text
      try { body = JSON.parse(text) } catch {}
      return { status: res.status, body }
    },
    async close () {
      for (const s of sockets.get(server)!) s.disconnect()
      await app.close()
      if (ownPrefix && keyPrefix !== undefined) await deleteRedisPrefix(keyPrefix)
    }
  }
  sockets.set(server, new Set())
  return server
}

/** Signs a JWT with the test secret (or `options.secret`). */
export function signToken (claims: Json, options: TokenOptions = {}): string {
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn
  const payload: Json = { ...claims }
  if (expiresIn !== null) payload.exp = Math.floor(Date.now() / 1000) + expiresIn
  return createSigner({ key: options.secret ?? TEST_SECRET, algorithm: options.algorithm ?? 'HS256', noTimestamp: false })(payload)
}

/**
 * Polls `check` until it returns something other than `undefined` or `false`, and resolves with that; rejects
 * naming `what` after `timeoutMs`. For conditions no event announces (Redis answers again, a count is reached).
 *
 * @example
 * await eventually('both nodes ready', async () => (await fetch(url + '/ready')).status === 200)
 */
export async function eventually<T> (what: string, check: () => T | undefined | false | Promise<T | undefined | false>, options: { timeoutMs?: number, intervalMs?: number } = {}): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 20 } = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Resolves with the arguments of the next `event` (matching `filter`), rejects after `timeoutMs`. */
export async function waitFor (socket: ClientSocket, event: string, options: { timeoutMs?: number, filter?: (...args: any[]) => boolean } = {}): Promise<any[]> {
  const { timeoutMs = 15_000, filter } = options
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener)
      reject(new Error(`no "${event}" within ${timeoutMs} ms`))
    }, timeoutMs)
    function listener (...args: any[]): void {
      if (filter !== undefined && !filter(...args)) return
      clearTimeout(timer)
      socket.off(event, listener)
      resolve(args)
    }
    socket.on(event, listener)
  })
}

/** The log lines of a server, parsed, as `captureLogs` collects them. */
export interface CapturedLogs {
  /** The destination to give `startServer({ logStream })`. */
  readonly stream: DestinationStream
  /** Every JSON line so far (`level` 20 debug, 30 info, 40 warn, 50 error), in order. */
  readonly lines: Json[]
  /** The lines whose `msg` is `msg`. */
  find (msg: string): Json[]
}

/**
 * Captures a server's log lines (pino's JSON) for assertions; set `server.logLevel` to see `debug` lines.
 *
 * @example
 * const logs = captureLogs()
 * const server = await startServer({ config: { server: { logLevel: 'debug' } }, logStream: logs.stream })
 * await eventually('the connection is logged', () => logs.find('socket connected').length === 1)
 */
export function captureLogs (): CapturedLogs {
  const lines: Json[] = []
  return {
    stream: {
      write (chunk: string) {
        for (const line of chunk.split('\n')) {
          if (line !== '') lines.push(JSON.parse(line) as Json)
        }
      }
    },
    lines,
    find: (msg) => lines.filter((l) => l.msg === msg)
  }
}

/** Collects every `event` a socket receives, for assertions that something did NOT arrive. */
export function record (socket: ClientSocket, event?: string): Array<{ event: string, args: any[] }> {
  const seen: Array<{ event: string, args: any[] }> = []
  if (event === undefined) socket.onAny((e: string, ...args: any[]) => { seen.push({ event: e, args }) })
  else socket.on(event, (...args: any[]) => { seen.push({ event, args }) })
  return seen
}

/** A server as its own process (`src/main.ts` under the same loader), for cross-node and crash tests. */
export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly port: number
  /** Every JSON log line so far. */
  readonly logs: Json[]
  /** Resolves with the exit code (or signal). */
  readonly exited: Promise<number | NodeJS.Signals | null>
  stop (signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>
}

const mainModule = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url))

/** Spawns a server process on a free port with the given raw config (test defaults applied). */
export async function spawnServer (raw: Json = {}, options: { redisPrefix?: string, env?: Record<string, string>, args?: string[] } = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-'))
  const file = join(dir, 'config.json')
  const cfg = testConfig(raw, options.redisPrefix === undefined ? undefined : { url: testRedisUrl(), keyPrefix: options.redisPrefix })
  cfg.server.logLevel = raw.server?.logLevel ?? 'info'
  writeFileSync(file, JSON.stringify(cfg))
  const child = spawn(process.execPath, [...process.execArgv, mainModule, '--config', file, ...(options.args ?? [])], {
    env: { ...process.env, PORT: '', HOST: '', CONFIG: '', REDIS_URL: '', JWT_SECRET: '', API_KEYS: '', LOG_LEVEL: '', LOG_PRETTY: '', ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logs: Json[] = []
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => { child.once('exit', (code, signal) => { resolve(code ?? signal) }) })
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      let entry: Json
      try { entry = JSON.parse(line) } catch { return }
      logs.push(entry)
      const m = /listening at http:\/\/[^:]+:(\d+)/.exec(String(entry.msg))
      if (m !== null) resolve(Number(m[1]))
    })
    void exited.then((code) => { reject(new Error(`server exited (${String(code)}) before listening: ${stderr}`)) })
  })
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    exited,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return await exited
    }
  }
}
