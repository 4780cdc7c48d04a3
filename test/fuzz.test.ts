// The property test of issue 15: every client event of every plugin's catalog and every REST route of the example
// profiles gets generated JSON (hostile strings included); each answer is a success or a catalog error (naming a
// field when it is RT_ERR_VALIDATION), never RT_ERR_INTERNAL, never a 5xx, never silence. Seeded: FUZZ_SEED replays.
import t from 'tap'
import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import { clientEvent, errorCatalog, type EventCatalog, type TSchema } from 'realtime-server'
import { startServer, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { loadPlugins } from '../src/core/plugins/loader.js'
import { resolveConfig } from '../src/config/load.js'
import { testConfig } from '../src/testing.js'
import { kCore, type Core } from '../src/core/core.js'

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20260115
/** Runs per event and per route: bounded, so that the whole file stays well under a minute on a loaded machine. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12)
/** Every emit with an ack is answered within this (a deadline, not a timing claim). */
const ACK_DEADLINE_MS = 10_000
const examples = new URL('../config/examples/', import.meta.url)

// ---- generators -----------------------------------------------------------------------------------

/** A string past the REST body limit (1 MiB by default): 413, never a crash. */
const MEGABYTE = 'x'.repeat(1024 * 1024 + 16)
/** A string that fits in a Socket.IO frame (maxHttpBufferSize is 1 MB by default): a bigger one closes the connection. */
const HALF_MEGABYTE = 'y'.repeat(512 * 1024)
/** Code units that break naive code: lone surrogates, a pair, NUL, separators of keys and rooms, percent. */
const unit = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 6 },
  { arbitrary: fc.constantFrom('\ud800', '\udfff', '\ud83d\ude00', '\u0000', ':', '#', '%', '/', '~', '\u2028'), weight: 3 }
)
const hostileString = (big: string): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: fc.string({ unit, maxLength: 12 }), weight: 6 },
  { arbitrary: fc.constantFrom('a\ud800b', 'bad\udc00', '\udbff', 'c1\ud83d'), weight: 4 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'x'.repeat(300)), weight: 3 },
  { arbitrary: fc.constant(big), weight: 1 }
)
const json = fc.jsonValue({ maxDepth: 3, stringUnit: unit })
/** An object with a property named `__proto__` of its own (as JSON.parse makes it), sent as JSON. */
const protoObject = json.map((v) => JSON.parse(`{"__proto__": ${JSON.stringify(v) ?? 'null'}, "constructor": {"prototype": 1}}`) as unknown)
/** Deeper than the 64 levels the server walks. */
const deep = fc.integer({ min: 60, max: 200 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown)

/**
 * Values shaped after a schema (so that the generated payloads get past the first type check and reach the
 * handlers), each field sometimes replaced by anything at all.
 */
function shaped (schema: Record<string, any>, big: string, depth = 0): fc.Arbitrary<unknown> {
  const anything = fc.oneof(json, hostileString(big))
  if (depth > 4) return anything
  let arb: fc.Arbitrary<unknown>
  if (Array.isArray(schema.anyOf)) arb = fc.oneof(...schema.anyOf.map((s: Record<string, any>) => shaped(s, big, depth + 1)))
  else if (schema.const !== undefined) arb = fc.constant(schema.const)
  else if (Array.isArray(schema.enum)) arb = fc.constantFrom(...schema.enum)
  else if (schema.type === 'string') arb = fc.oneof(hostileString(big), fc.constantFrom('c1', 'u1', 'acme', '1', new Date().toISOString()))
  else if (schema.type === 'integer' || schema.type === 'number') arb = fc.oneof(fc.integer({ min: -2, max: 200 }), fc.double(), fc.constantFrom(1e308, -0, 2 ** 53))
  else if (schema.type === 'boolean') arb = fc.boolean()
  else if (schema.type === 'array') arb = fc.array(shaped(schema.items ?? {}, big, depth + 1), { maxLength: 3 })
  else if (schema.type === 'object' && schema.properties !== undefined) {
    const entries = Object.entries(schema.properties as Record<string, Record<string, any>>)
    arb = fc.tuple(
      fc.record(Object.fromEntries(entries.map(([k, s]) => [k, shaped(s, big, depth + 1)])), { requiredKeys: schema.required ?? [] }),
      fc.option(fc.dictionary(hostileString('z'), json, { maxKeys: 2 }), { freq: 4 })
    ).map(([o, extra]) => extra === null ? o : { ...extra, ...o })
  } else arb = anything
  return fc.oneof({ arbitrary: arb, weight: 5 }, { arbitrary: anything, weight: 1 })
}

/** An ill-formed string (a lone surrogate) where an id would be. */
const POISON = 'a\ud800b'
/**
 * The example every property starts with: a value of the schema's shape whose every string is ill-formed (or
 * `plain` instead), so that a check that lets it through shows at once which key builder or script breaks.
 */
function example (schema: Record<string, any>, plain?: string, depth = 0): unknown {
  if (depth > 6) return null
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum)) return schema.enum[0]
  if (Array.isArray(schema.anyOf)) return example(schema.anyOf.find((s: Record<string, any>) => s.type !== 'undefined' && s.type !== 'null') ?? schema.anyOf[0], plain, depth + 1)
  switch (schema.type) {
    case 'string': return schema.format === 'date-time' ? new Date(0).toISOString() : plain ?? POISON
    case 'integer': case 'number': return Math.max(1, schema.minimum ?? 1)
    case 'boolean': return true
    case 'array': return [example(schema.items ?? {}, plain, depth + 1)]
    case 'object': return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Record<string, any>>).map(([k, s]) => [k, example(s, plain, depth + 1)]))
    default: return { text: plain ?? POISON }
  }
}

/** A payload for a schema: shaped after it, or any JSON, an own `__proto__`, deep nesting, a hostile string. */
const payloadFor = (schema: TSchema, big: string): fc.Arbitrary<unknown> => fc.oneof(
  { arbitrary: shaped(schema as Record<string, any>, big), weight: 6 },
  { arbitrary: json, weight: 2 },
  { arbitrary: protoObject, weight: 1 },
  { arbitrary: deep, weight: 1 },
  { arbitrary: hostileString(big), weight: 1 }
)

// ---- what an answer may be ------------------------------------------------------------------------

/** The error of an ack: `{ error: { code } }` (the core's), or `{ error: '<text>', code }` (chat's protocol); undefined for a success. */
function ackError (ack: unknown): { code?: unknown, field?: unknown, message?: unknown } | undefined {
  if (ack === null || typeof ack !== 'object' || !('error' in ack)) return undefined
  const error = (ack as { error: unknown }).error
  return error !== null && typeof error === 'object' ? error as Record<string, unknown> : ack as Record<string, unknown>
}

/** Why an error answer is not acceptable; undefined when it is. */
function badError (error: { code?: unknown, field?: unknown }, codes: Set<string>): string | undefined {
  if (typeof error.code !== 'string' || !codes.has(error.code)) return `code ${String(error.code)} is not in the error catalog`
  if (error.code === 'RT_ERR_INTERNAL') return 'RT_ERR_INTERNAL'
  if (error.code === 'RT_ERR_VALIDATION' && (typeof error.field !== 'string' || error.field === '')) return 'RT_ERR_VALIDATION without a field'
  return undefined
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s
}

// ---- the routes and events of a server -------------------------------------------------------------

interface Route { method: string, path: string }

/** The routes Fastify knows, from `printRoutes` (the tree, each line a segment under its parent). */
function routesOf (server: TestServer): Route[] {
  const routes: Route[] = []
  const stack: string[] = ['']
  for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│├└─\s]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line)
    if (m === null) continue
    const depth = m[1]!.length / 4
    const path = (stack[depth - 1] ?? '') + m[2]!
    stack[depth] = path
    stack.length = depth + 1
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD' && method !== 'OPTIONS' && path !== '*') routes.push({ method, path })
  }
  return routes
}

const core = (server: TestServer): Core => (server.app as unknown as Record<symbol, Core>)[kCore]!
/** Event names a Socket.IO client refuses to emit. */
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'])

interface ClientEventCase { plugin: string, event: string, payload: TSchema, namespaces: string[] }
interface Catalogs { events: ClientEventCase[], bodies: TSchema[] }

/** Every client event of every enabled plugin's catalog (the catalog of its options), with the namespaces it is handled on. */
async function catalogs (profile: Record<string, any>, server: TestServer): Promise<Catalogs> {
  const { config } = resolveConfig(testConfig(profile), { source: 'fuzz' })
  const { io, registry } = core(server)
  const names = [...(io as unknown as { _nsps: Map<string, unknown> })._nsps.keys()]
  const cases: ClientEventCase[] = []
  // REST bodies are shaped after the catalogs' object payloads too (a trigger's body is often its server event's payload).
  const bodies: TSchema[] = []
  for (const p of await loadPlugins(config.plugins, process.cwd())) {
    const def = p.plugin.definition
    const catalog: EventCatalog = typeof def.events === 'function' ? def.events(p.options as never) : def.events ?? {}
    for (const [event, entry] of Object.entries(catalog.client ?? {})) {
      const e = clientEvent(entry)
      const namespaces = e.namespaces !== undefined ? [...e.namespaces] : names.filter((n) => registry.get(n)?.events.get(event)?.plugin === p.name)
      cases.push({ plugin: p.name, event, payload: e.payload, namespaces })
    }
    for (const entry of [...Object.values(catalog.client ?? {}), ...Object.values(catalog.server ?? {})]) {
      const schema = clientEvent(entry as TSchema).payload as Record<string, any>
      if (schema.type === 'object' && schema.properties !== undefined) bodies.push({ ...schema, properties: { ...schema.properties, tenantId: { type: 'string' } } } as TSchema)
    }
  }
  return { events: cases, bodies }
}

/** A token that may do most things: an admin of `acme` with every room claim the profiles check. */
const claims = { sub: 'u1', tenantId: 'acme', role: 'admin', roles: ['admin'], whatsappAccounts: ['c1'], campaigns: ['c1'], contacts: ['c1'] }

// ---- the test --------------------------------------------------------------------------------------

const profiles = readdirSync(examples).filter((f) => f.endsWith('.json')).sort()

t.test('every catalog event and every REST route answers arbitrary JSON with success or a catalog error', async (t) => {
  t.comment(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${RUNS} runs per event and route (FUZZ_RUNS), ${process.env.FUZZ_REDIS === '1' ? 'Redis' : 'memory'} stores (FUZZ_REDIS=1)`)
  const seen = new Set<string>()
  for (const file of profiles) {
    const profile = JSON.parse(readFileSync(new URL(file, examples), 'utf8')) as Record<string, any>
    delete profile.$schema
    // FUZZ_REDIS=1: the same on the Redis stores (the real Redis, a fresh key prefix).
    const server = await startServer({ config: profile, redis: process.env.FUZZ_REDIS === '1' })
    try {
      const codes = new Set(errorCatalog().map((e) => e.code))
      const sockets = new Map<string, ClientSocket>()
      const socketOf = async (nsp: string): Promise<ClientSocket> => {
        let s = sockets.get(nsp)
        if (s === undefined || !s.connected) sockets.set(nsp, s = await server.connect(nsp, { token: server.token(claims) }))
        return s
      }
      const { events: cases, bodies } = await catalogs(profile, server)
      // The core's own client event, and names nothing handles.
      cases.push({ plugin: 'core', event: 'auth:refresh', payload: {} as TSchema, namespaces: ['/'] })
      for (const { plugin, event, payload, namespaces } of cases) {
        t.ok(namespaces.length > 0, `${file}: ${plugin} ${event} is handled on a namespace`)
        for (const nsp of namespaces) {
          seen.add(`${plugin} ${event}`)
          await fc.assert(fc.asyncProperty(payloadFor(payload, HALF_MEGABYTE), fc.integer({ min: 0, max: 3 }).map((n) => n > 0), async (data, withAck) => {
            const socket = await socketOf(nsp)
            if (!withAck) {
              // Without an ack the answer may be an `error` event, or nothing; the socket must stay usable.
              socket.emit(event, data)
              return
            }
            const ack: unknown = await socket.timeout(ACK_DEADLINE_MS).emitWithAck(event, data)
            const error = ackError(ack)
            const bad = error === undefined ? undefined : badError(error, codes)
            if (bad !== undefined) throw new Error(`${nsp} ${event} ${show(data)}: ${bad}: ${show(ack)}`)
            t.ok(socket.connected, 'the socket is still connected')
          }), { seed: SEED, numRuns: RUNS, examples: [[example(payload), true], [example(payload, 'c1'), true]] })
        }
      }
      // Events nothing handles, with an ack: answered RT_ERR_UNKNOWN_EVENT.
      const handled = core(server).registry.get('/')?.events
      await fc.assert(fc.asyncProperty(fc.string({ unit, minLength: 1, maxLength: 20 }), json, async (name, data) => {
        if (handled?.has(name) === true || RESERVED.has(name)) return
        const ack: unknown = await (await socketOf('/')).timeout(ACK_DEADLINE_MS).emitWithAck(name, data)
        const error = ackError(ack)
        if (error?.code !== 'RT_ERR_UNKNOWN_EVENT' || badError(error, codes) !== undefined) throw new Error(`unknown event ${show(name)}: ${show(ack)}`)
      }), { seed: SEED, numRuns: RUNS })

      for (const { method, path } of routesOf(server)) {
        seen.add(`${method} ${path}`)
        const body = fc.oneof({ arbitrary: json, weight: 2 }, { arbitrary: protoObject, weight: 1 }, { arbitrary: deep, weight: 1 },
          { arbitrary: hostileString(MEGABYTE), weight: 1 }, { arbitrary: fc.oneof(...bodies.map((b) => shaped(b as Record<string, any>, 'b'))), weight: 8 })
        const query = fc.dictionary(fc.constantFrom('tenantId', 'namespace', 'room', 'limit', 'channelId', 'before', '__proto__'), hostileString('q'), { maxKeys: 3 })
        const param = fc.oneof(hostileString('p'), fc.constantFrom('s1', 'u1', 'c1'))
        await fc.assert(fc.asyncProperty(body, query, param, fc.constantFrom<'key' | 'token'>('key', 'token'), async (b, q, p, who) => {
          const encode = (s: string): string => { try { return encodeURIComponent(s) } catch { return '%ED%A0%80' } }
          const url = path.replace(/:[A-Za-z]+/g, () => encode(p) || 'x') +
            (Object.keys(q).length === 0 ? '' : '?' + Object.entries(q).map(([k, v]) => `${k}=${encode(v)}`).join('&'))
          const res = await server.request(method, url, {
            ...(method === 'POST' || method === 'PUT' ? { body: b } : {}),
            ...(who === 'key' ? { apiKey: true } : { token: server.token(claims) })
          })
          const problem = res.status >= 500
            ? `status ${res.status}`
            : res.status >= 400 ? badError(res.body ?? {}, codes) : undefined
          if (problem !== undefined) throw new Error(`${method} ${url.slice(0, 200)} ${show(b)}: ${problem}: ${res.status} ${show(res.body)}`)
        }), {
          seed: SEED,
          numRuns: RUNS,
          // Each catalog shape with every string ill-formed but the tenant, then with the tenant ill-formed too.
          examples: method === 'POST' || method === 'PUT'
            ? [...bodies.map((b) => [{ ...example(b) as object, tenantId: 'acme' }, {}, 's1', 'key'] as [unknown, Record<string, string>, string, 'key']),
                [{ tenantId: POISON }, {}, 's1', 'key']]
            : [[null, { tenantId: 'acme', room: POISON }, POISON, 'key'], [null, { tenantId: POISON }, 's1', 'key']]
        })
      }
    } finally {
      await server.close()
    }
  }
  for (const plugin of ['chat-messages', 'sessions', 'presence', 'tenant-broadcast', 'commerce-namespaces']) {
    t.ok([...seen].some((s) => s.startsWith(`${plugin} `) || s.includes(`/api/${plugin}/`)), `${plugin}: its events or routes were fuzzed`)
  }
  t.ok([...seen].some((s) => s.startsWith('POST /api/')), 'REST routes were fuzzed')
  t.comment(`fuzzed ${seen.size} events and routes: ${[...seen].join(', ')}`)
})
