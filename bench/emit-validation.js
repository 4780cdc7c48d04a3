// The cost of development-mode emit validation (contracts.validateEmits), in this process: ns per checked publish
// of chat-messages' `message:created` (a nested message with its user) and of hello's `hello:greeted` (three fields),
// against the same call with validation off (the publisher's `checkEmit` left undefined, as in production).
// Needs `npm run build`. Usage: node bench/emit-validation.js [--iterations=N]
import { Writable } from 'node:stream'
import pino from 'pino'
import { emitValidator } from '../dist/src/core/contracts/emit-validation.js'
import { events as chatEvents } from '../dist/plugins/chat-messages/events.js'
import { options as chatOptions } from '../dist/plugins/chat-messages/schema.js'
import { Value } from 'typebox/value'

const iterations = Number(/--iterations=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 1_000_000)
const log = pino({ level: 'silent' }, new Writable({ write (_c, _e, cb) { cb() } }))

const chat = chatEvents(Value.Default(chatOptions, {}))
const { Type } = await import('typebox')
const Greeted = Type.Object({ name: Type.String(), text: Type.String(), count: Type.Integer() })
const contracts = [
  { plugin: 'chat-messages', catalog: chat, handled: [], namespaces: ['/'] },
  { plugin: 'hello', catalog: { server: { 'hello:greeted': Greeted } }, handled: [], namespaces: ['/'] }
]
const validator = emitValidator(contracts, log)

const at = new Date(0).toISOString()
const inputs = {
  'message:created': {
    tenantId: 'acme',
    namespace: '/',
    rooms: ['channel:c1'],
    event: 'message:created',
    payload: { message: { id: 'm1', content: 'hello there', channelId: 'c1', userId: 'u1', replyToId: null, deliveryStatus: 'DELIVERED', createdAt: at, updatedAt: at, user: { id: 'u1', name: 'Ada', imageUrl: null } }, tempId: 't1', processed: true }
  },
  'hello:greeted': { tenantId: 'acme', namespace: '/', event: 'hello:greeted', payload: { name: 'Ada', text: 'Hi, Ada!', count: 1 } }
}

/** What the publisher does per publish: `this.checkEmit?.(input, plugin)`. */
class Publisher { checkEmit = undefined; publish (input, plugin) { this.checkEmit?.(input, plugin); return input } }

function time (publisher, input) {
  for (let i = 0; i < 10_000; i++) publisher.publish(input, 'bench')
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) publisher.publish(input, 'bench')
  return Number(process.hrtime.bigint() - start) / iterations
}

for (const [event, input] of Object.entries(inputs)) {
  validator.publish(input, 'bench') // throws if the sample is invalid: the figure is of a passing check
  const off = new Publisher()
  const on = new Publisher()
  on.checkEmit = validator.publish
  const results = []
  for (let rep = 0; rep < 3; rep++) results.push([time(off, input), time(on, input)])
  const median = (i) => results.map((r) => r[i]).sort((a, b) => a - b)[1]
  process.stdout.write(`${event}: off ${median(0).toFixed(1)} ns/emit, on ${median(1).toFixed(1)} ns/emit (+${(median(1) - median(0)).toFixed(1)} ns)\n`)
}
