// A connection's listener tables are copied into fast-mode objects (src/core/patches/listener-tables.ts): every
// emitter answers as before (names, order, arrays, hostile names, removal), and a live connection still carries
// events and cleans up when it closes.
import t from 'tap'
import { EventEmitter, errorMonitor } from 'node:events'
import { Writable } from 'node:stream'
import { io } from 'socket.io-client'
import { eventually, startServer, waitFor } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { compactListenerTables, freshListenerTable } from '../../src/core/patches/listener-tables.js'

type Events = Record<string | symbol, unknown>
const tableOf = (e: EventEmitter): Events => (e as unknown as { _events: Events })._events

/** Whether a table inherits nothing: no property on its prototype chain, and `__proto__` an ordinary key. */
function inheritsNothing (table: object): boolean {
  for (let p = Object.getPrototypeOf(table); p !== null; p = Object.getPrototypeOf(p)) {
    if (Reflect.ownKeys(p).length > 0) return false
  }
  return true
}

/** What an emitter answers about its listeners, and what emitting each event calls, in order. */
function behaviour (e: EventEmitter, calls: string[]): unknown {
  const names = e.eventNames()
  const count = names.map((n) => e.listenerCount(n))
  calls.length = 0
  const emitted = names.map((n) => e.emit(n, 'x'))
  return { names, count, emitted, calls: [...calls] }
}

t.test('a compacted table answers as the original', async (t) => {
  const calls: string[] = []
  const make = (): EventEmitter => {
    const e = new EventEmitter()
    const on = (name: string | symbol, tag: string): void => { e.on(name, () => { calls.push(tag) }) }
    on('close', 'close-1'); on('close', 'close-2'); on('close', 'close-3')
    on('__proto__', 'proto'); on('toString', 'toString'); on('constructor', 'ctor')
    on('\uD800', 'lone surrogate')
    e.once('end', () => { calls.push('end-once') })
    e.on('end', () => { calls.push('end') })
    return e
  }
  const original = make()
  const before = behaviour(original, calls)
  const compacted = make()
  const table = tableOf(compacted)
  const raw = compacted.eventNames().map((n) => compacted.rawListeners(n))
  compactListenerTables({ conn: compacted } as never)
  t.not(tableOf(compacted), table, 'the table was replaced')
  t.ok(inheritsNothing(tableOf(compacted)), 'inheriting nothing')
  t.strictSame(compacted.eventNames().map((n) => compacted.rawListeners(n)), raw, 'the same listener functions, in the same order')
  t.not(tableOf(compacted).close, table.close, 'a listener array is a copy')
  t.strictSame(behaviour(compacted, calls), before, 'the same names, listeners, order and calls')
  t.strictSame(behaviour(compacted, calls), behaviour(original, calls), 'and again, once listeners gone')
  t.equal(compacted.emit('hasOwnProperty'), false, 'no inherited name is a listener')
  t.equal(compacted.listenerCount('valueOf'), 0)

  compacted.off('close', compacted.rawListeners('close')[1] as () => void)
  compacted.on('drain', () => { calls.push('drain') })
  compacted.prependListener('close', () => { calls.push('close-0') })
  calls.length = 0
  compacted.emit('close'); compacted.emit('drain')
  t.strictSame(calls, ['close-0', 'close-1', 'close-3', 'drain'], 'removal, addition and prepending after the copy')
  compacted.removeAllListeners()
  t.strictSame(compacted.eventNames(), [], 'every listener removed')
})

t.test('an emitter given a fresh table answers as one with Node\'s own', async (t) => {
  const calls: string[] = []
  const names = ['close', '__proto__', 'toString', 'constructor', 'hasOwnProperty', '\uD800', 'end']
  const fill = (e: EventEmitter): EventEmitter => {
    for (const name of names) e.on(name, () => { calls.push(`${name}-1`) })
    e.once('close', () => { calls.push('close-once') })
    e.on('close', () => { calls.push('close-3') })
    e.prependListener('end', () => { calls.push('end-0') })
    return e
  }
  const original = fill(new EventEmitter())
  const given = new EventEmitter()
  const nodeTable = tableOf(given)
  freshListenerTable(given)
  t.not(tableOf(given), nodeTable, 'an emitter without listeners gets a fresh table')
  t.ok(inheritsNothing(tableOf(given)), 'which inherits nothing')
  t.equal(given.emit('toString'), false, 'no inherited name is a listener')
  fill(given)
  const filled = tableOf(given)
  freshListenerTable(given)
  t.equal(tableOf(given), filled, 'an emitter with listeners keeps its table')
  t.strictSame(behaviour(given, calls), behaviour(original, calls), 'the same names, counts, order and calls')
  t.strictSame(behaviour(given, calls), behaviour(original, calls), 'and again, once listeners gone')

  given.on('close', () => { calls.push('close-4') })
  const closeArray = tableOf(given).close as unknown[]
  compactListenerTables({ conn: given } as never)
  t.equal(tableOf(given), filled, 'compacting keeps a fresh table')
  t.not(tableOf(given).close, closeArray, 'and copies its arrays of three listeners or more')
  t.strictSame(tableOf(given).close, closeArray, 'with the same listeners')
  given.off('close', given.rawListeners('close')[0] as () => void)
  calls.length = 0
  given.emit('close')
  t.strictSame(calls, ['close-3', 'close-4'], 'removal after the copy')
  given.removeAllListeners()
  t.strictSame(given.eventNames(), [], 'every listener removed')
  t.equal(given.emit('close'), false)
})

t.test('tables of another shape are left alone', async (t) => {
  const many = new EventEmitter()
  for (let i = 0; i < 13; i++) many.on(`e${i}`, () => {})
  const manyTable = tableOf(many)
  const plain = new EventEmitter()
  const plainTable: Events = { x: () => {} }
  ;(plain as unknown as { _events: Events })._events = plainTable
  const stream = new Writable()
  const streamTable = tableOf(stream)
  compactListenerTables({ conn: { transport: stream } } as never)
  t.equal(tableOf(stream), streamTable, 'a stream\'s table, shaped in advance: unchanged')
  const symbolic = new EventEmitter()
  symbolic.on('close', () => {})
  symbolic.on(errorMonitor, () => {})
  const symbolicTable = tableOf(symbolic)
  compactListenerTables({ conn: symbolic } as never)
  t.equal(tableOf(symbolic), symbolicTable, 'a table with a symbol key: unchanged')
  t.equal(symbolic.listenerCount(errorMonitor), 1)
  compactListenerTables({ conn: many } as never)
  compactListenerTables({ conn: plain } as never)
  compactListenerTables({ conn: { transport: { socket: null } } } as never)
  compactListenerTables({ conn: undefined } as never)
  t.equal(tableOf(many), manyTable, 'more events than V8 keeps fast: unchanged')
  t.equal(tableOf(plain), plainTable, 'a table with a prototype: unchanged')
})

t.test('a live connection carries events and closes after its tables are compacted', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const socket = io(server.url, { transports: ['websocket'], reconnection: false, auth: { token: server.token({ sub: 'u1', tenantId: 'acme' }) } })
  t.teardown(() => { socket.disconnect() })
  await waitFor(socket, 'connect')

  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const [serverSocket] = [...core.io.of('/').sockets.values()]
  const conn = serverSocket!.conn as unknown as EventEmitter & { close: () => void, transport: EventEmitter & { socket: EventEmitter } }
  const emitters = { socket: serverSocket as unknown as EventEmitter, conn, transport: conn.transport, websocket: conn.transport.socket }
  for (const [name, e] of Object.entries(emitters)) {
    t.ok(inheritsNothing(tableOf(e)), `${name}: a table that inherits nothing`)
    t.not(Object.getPrototypeOf(tableOf(e)), null, `${name}: not Node's own table (made in dictionary mode)`)
    for (const [event, listeners] of Object.entries(tableOf(e))) {
      if (Array.isArray(listeners)) t.equal(listeners.length, e.listenerCount(event), `${name} '${event}': an array as long as its listeners`)
    }
  }
  t.ok(conn.listenerCount('close') >= 3, 'the Engine.IO socket has three close listeners or more (an array)')

  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'a client event and its acknowledgement pass through every table')
  const reply = await new Promise((resolve) => { socket.emit('toString', {}, resolve) })
  t.match(reply, { error: { code: 'UNKNOWN_EVENT' } }, 'an event named after an Object.prototype method is unknown, not inherited')

  const transport = conn.transport
  const gone = waitFor(socket, 'disconnect')
  conn.close()
  await gone
  await eventually('every close listener ran: the engine forgot the connection', () => core.io.engine.clientsCount === 0)
  t.equal(transport.listenerCount('packet'), 0, 'closing removed the transport\'s listeners')
  t.equal(core.io.of('/').sockets.size, 0, 'the namespace socket is gone')
})
