// Starts the servers under test, each in its own process pinned with taskset, with bench/lib/probe.js
// preloaded for stats over IPC. Three variants:
//   product  - the product as users run it: `node dist/src/main.js --config <file>`, REST trigger
//              through a plugin (the bench plugin or tenant-broadcast, see ENDPOINTS), JWT auth, tenant rooms
//   socketio - bare Socket.IO 4 doing the same broadcast, with an equivalent JWT check (servers/baseline.js)
//   ws-frame - raw `ws`, one pre-encoded frame written to every socket (servers/baseline.js)
// and the extra variants below (EXTRA_VARIANTS), run only when named.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { API_KEY, JWT_SECRET } from './credentials.js'
import { freePort, sleep } from './machine.js'
import { EVENT_TYPE } from './trigger.js'

const here = path.dirname(fileURLToPath(import.meta.url))
export const benchDir = path.resolve(here, '..')
export const repoDir = path.resolve(benchDir, '..')
const probe = path.join(here, 'probe.js')
const cohost = path.join(here, 'cohost.js')
// BENCH_DIST: another build of the product to run (e.g. a copy of dist/ from before a change, inside the checkout so
// that its imports resolve), to compare two commits with the same scripts.
const distDir = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(repoDir, 'dist')
const productMain = path.join(distDir, 'src', 'main.js')
const baselineMain = path.join(benchDir, 'servers', 'baseline.js')

export const VARIANTS = ['product', 'socketio', 'ws-frame']
/**
 * Not run unless named in --variants: the product with `socketio.fastBroadcast` off (Socket.IO's own write
 * path), and each of the two with the slow-consumer bound off (`socketio.maxBufferedBytes: 0`), to measure
 * what the bound costs; and the product with `metrics.enabled: false` (`product-nometrics`), to measure what
 * the metrics cost (`product` counts them, as the default config does, without serving them). `socketio-cohost`
 * is bare Socket.IO with the product running in the same process on a port of its own (lib/cohost.js), serving
 * nobody: what the product's process alone (its code, heap, patches and timers) costs bare Socket.IO's clients.
 */
export const EXTRA_VARIANTS = ['product-nofast', 'product-nobound', 'product-nofast-nobound', 'product-nometrics', 'socketio-cohost']
const isProduct = (variant) => variant === 'product' || (variant.startsWith('product-') && EXTRA_VARIANTS.includes(variant))
/** Needs dist/: the product, or the product beside bare Socket.IO. */
const needsDist = (variant) => isProduct(variant) || variant === 'socketio-cohost'

/**
 * The product's publish endpoint. `bench` is the bench's own plugin (bench/product-plugin), used until
 * the tenant-broadcast plugin lands; `tenant-broadcast` is the built-in plugin users run (the bench's
 * event type is declared to it as a custom event). Both serve POST { type, payload, tenantId } with
 * x-api-key and answer { eventId, recipients }.
 */
export const ENDPOINTS = {
  bench: {
    path: '/api/bench/events',
    plugins: () => ({ bench: { from: path.join(benchDir, 'product-plugin', 'index.js') } })
  },
  'tenant-broadcast': {
    path: '/api/tenant-broadcast/events',
    plugins: () => ({
      'tenant-broadcast': { options: { customEvents: { [EVENT_TYPE]: { schema: { type: 'object' }, description: 'bench event' } } } }
    })
  }
}

/** The endpoint used when --endpoint is not given: BENCH_ENDPOINT, else the built-in `tenant-broadcast`. */
export const DEFAULT_ENDPOINT = process.env.BENCH_ENDPOINT || 'tenant-broadcast'

export function endpointOf (name) {
  const e = ENDPOINTS[name]
  if (e === undefined) throw new Error(`unknown --endpoint=${name} (known: ${Object.keys(ENDPOINTS).join(', ')})`)
  return e
}

/** How a load-generator client connects to a variant. */
export function clientOptions (variant) {
  if (variant === 'ws-frame') return { mode: 'ws', path: (token) => `/ws?token=${token}` }
  return { mode: 'sio', path: () => '/socket.io/?EIO=4&transport=websocket', auth: (token) => ({ token }) }
}

/** Fails early when dist/ (or the endpoint's plugin) is missing, and warns when dist/ is older than the sources. */
export function checkBuild (variants, endpoint = DEFAULT_ENDPOINT) {
  endpointOf(endpoint)
  if (!variants.some(needsDist)) return
  if (!fs.existsSync(productMain)) throw new Error(`${productMain} is missing: run \`npm run build\` first`)
  if (endpoint === 'tenant-broadcast' && !fs.existsSync(path.join(distDir, 'plugins', 'tenant-broadcast', 'index.js'))) {
    throw new Error('dist/plugins/tenant-broadcast/index.js is missing: run `npm run build` (or use --endpoint=bench)')
  }
  const built = fs.statSync(productMain).mtimeMs
  let newest = 0
  let newestFile = ''
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p)
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const m = fs.statSync(p).mtimeMs
        if (m > newest) {
          newest = m
          newestFile = p
        }
      }
    }
  }
  walk(path.join(repoDir, 'src'))
  walk(path.join(repoDir, 'plugins'))
  if (newest > built) console.warn(`warning: dist/ is older than ${path.relative(repoDir, newestFile)}: run \`npm run build\` to bench the current sources`)
}

function productConfig ({ port, endpoint, redis, variant, extra = {} }) {
  const fastBroadcast = !variant.startsWith('product-nofast')
  const config = {
    server: { host: '127.0.0.1', port, logLevel: 'warn' },
    auth: { jwt: { secret: JWT_SECRET }, apiKeys: [API_KEY] },
    // The bound at its default unless the variant turns it off.
    socketio: variant.endsWith('-nobound') ? { fastBroadcast, maxBufferedBytes: 0 } : { fastBroadcast },
    // REST rate limits counted as in production, with a bound the bench's one API key never reaches.
    rateLimit: { principal: { max: 1_000_000_000 } },
    // Counted (the default) unless the variant turns them off; served to nobody either way.
    metrics: { enabled: variant !== 'product-nometrics' },
    ...extra,
    plugins: { ...endpointOf(endpoint).plugins(), ...(extra.plugins ?? {}) }
  }
  if (redis !== undefined) config.redis = { url: redis.url, keyPrefix: redis.keyPrefix }
  return config
}

let tmpCount = 0

/**
 * Writes the product's config file into `dir` and sets `env` to the same values (the environment overrides the
 * file: nothing inherited may leak in); returns the file.
 */
function writeProductConfig (dir, env, { port, endpoint, redis, variant, extra, logLevel }) {
  const file = path.join(dir, 'config.json')
  fs.writeFileSync(file, JSON.stringify(productConfig({ port, endpoint, redis, variant, extra }), null, 2))
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET,
    API_KEYS: API_KEY,
    LOG_LEVEL: logLevel,
    REDIS_URL: redis?.url ?? '',
    CONFIG: '',
    JWT_PUBLIC_KEY: '',
    JWKS_URL: ''
  })
  return file
}

/**
 * Starts one server of `variant` and resolves once it answers GET /ready.
 * options: { variant, cpu, endpoint, redis: { url, keyPrefix } | undefined, exposeGc, logLevel, rooms, env,
 *            config (product only: top-level config keys added to the file, `plugins` merged),
 *            wrap (a command prefix instead of taskset, e.g. ['valgrind', '--tool=callgrind', ...]), readyTimeoutMs,
 *            events (socketio only: handle bench/events-plugin's events, for event-rate.js) }
 */
export async function startServer (options) {
  const { variant, cpu = 0, endpoint = DEFAULT_ENDPOINT, redis, exposeGc = false, logLevel = 'warn' } = options
  const port = await freePort()
  const triggerPath = endpointOf(endpoint).path
  // BENCH_SERVER_NODE_ARGS: extra node options for every server under test (e.g. --cpu-prof).
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '')
  const nodeArgs = [...extra, ...(exposeGc ? ['--expose-gc'] : []), '--import', probe]
  let argv
  let tmpDir
  const env = { ...process.env, NODE_ENV: 'production', ...(options.env ?? {}) }
  if (isProduct(variant)) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `rt-bench-${process.pid}-${tmpCount++}-`))
    const file = writeProductConfig(tmpDir, env, { port, endpoint, redis, variant, extra: options.config, logLevel })
    argv = [...nodeArgs, productMain, '--config', file]
  } else if (variant === 'socketio' || variant === 'ws-frame' || variant === 'socketio-cohost') {
    const impl = variant === 'socketio-cohost' ? 'socketio' : variant
    let preload = []
    if (variant === 'socketio-cohost') {
      // The product on a port of its own, with the config `product` gets (its plugin, metrics on; its own Redis
      // keys), in this process.
      tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `rt-bench-${process.pid}-${tmpCount++}-`))
      const own = redis === undefined ? undefined : { ...redis, keyPrefix: `${redis.keyPrefix}-cohost` }
      const file = writeProductConfig(tmpDir, env, { port: await freePort(), endpoint, redis: own, variant: 'product', extra: options.config, logLevel })
      Object.assign(env, { BENCH_COHOST_DIST: distDir, BENCH_COHOST_CONFIG: file })
      preload = ['--import', cohost]
    }
    argv = [...nodeArgs, ...preload, baselineMain, `--impl=${impl}`, `--port=${port}`, `--path=${triggerPath}`]
    if (options.rooms !== undefined) argv.push(`--rooms=${options.rooms}`)
    if (options.events === true) argv.push('--events')
    if (redis !== undefined) argv.push(`--redis=${redis.url}`, `--prefix=${redis.keyPrefix}`)
  } else {
    throw new Error(`unknown variant ${variant} (known: ${[...VARIANTS, ...EXTRA_VARIANTS].join(', ')})`)
  }
  const pinned = cpu !== 'none' && cpu !== undefined && cpu !== ''
  let cmd = pinned ? 'taskset' : process.execPath
  let args = pinned ? ['-c', String(cpu), process.execPath, ...argv] : argv
  if (options.wrap !== undefined) [cmd, args] = [options.wrap[0], [...options.wrap.slice(1), process.execPath, ...argv]]
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
  const server = new ServerHandle({ variant, port, triggerPath, child, tmpDir })
  try {
    await server.waitReady(options.readyTimeoutMs)
  } catch (err) {
    await server.stop()
    throw err
  }
  return server
}

class ServerHandle {
  constructor ({ variant, port, triggerPath, child, tmpDir }) {
    this.variant = variant
    this.port = port
    this.triggerPath = triggerPath
    this.child = child
    this.tmpDir = tmpDir
    this.pid = child.pid
    this.exitCode = undefined
    this.stopping = false
    this.nextId = 1
    this.pending = new Map()
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? signal
        for (const p of this.pending.values()) p.reject(new Error(`server ${variant} exited (${this.exitCode})`))
        this.pending.clear()
        resolve(this.exitCode)
      })
    })
    child.on('message', (m) => {
      if (m === null || typeof m !== 'object' || !m.bench) return
      const p = this.pending.get(m.id)
      if (p !== undefined) {
        this.pending.delete(m.id)
        p.resolve(m)
      }
    })
    child.on('error', () => {})
  }

  /** True while the process runs and was not asked to stop. */
  get alive () { return this.exitCode === undefined }

  /** Exited on its own (a crash invalidates the run). */
  get crashed () { return this.exitCode !== undefined && !this.stopping }

  request (cmd, timeoutMs = 30000, fields = {}) {
    if (!this.alive) return Promise.reject(new Error(`server ${this.variant} is not running (exit ${this.exitCode})`))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`server ${this.variant} did not answer ${cmd} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (m) => { clearTimeout(timer); resolve(m) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      this.child.send({ bench: true, id, cmd, ...fields })
    })
  }

  stats () { return this.request('stats') }
  gc () { return this.request('gc') }
  /** Two full GCs, then a heap snapshot written to `file` (bench/profile/memory-snapshot.js). */
  snapshot (file) { return this.request('snapshot', 600000, { file }) }

  async waitReady (timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`server ${this.variant} exited (${this.exitCode}) before it was ready`)
      const status = await httpStatus(this.port, '/ready')
      if (status === 200) return
      await sleep(50)
    }
    throw new Error(`server ${this.variant} not ready after ${timeoutMs} ms`)
  }

  /** Stops the process (probe exit, SIGKILL after 3 s) and removes its temporary config. */
  async stop () {
    this.stopping = true
    if (this.alive) {
      try {
        this.child.send({ bench: true, id: 0, cmd: 'exit' })
      } catch {}
      const t = setTimeout(() => { this.child.kill('SIGKILL') }, 3000)
      await this.exited
      clearTimeout(t)
    }
    if (this.tmpDir !== undefined) fs.rmSync(this.tmpDir, { recursive: true, force: true })
  }
}

function httpStatus (port, urlPath) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 2000 }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('error', () => { resolve(0) })
    req.on('timeout', () => { req.destroy(); resolve(0) })
  })
}

/** Sum of CPU ms used by several servers between two stats snapshots (arrays in the same order). */
export function serversCpuMs (before, after) {
  let ms = 0
  for (let i = 0; i < before.length; i++) {
    ms += (after[i].cpu.user - before[i].cpu.user + after[i].cpu.system - before[i].cpu.system) / 1000
  }
  return ms
}
