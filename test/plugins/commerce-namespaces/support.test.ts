/**
 * Shared helpers of the commerce-namespaces tests: a valid payload of each of the 23 types, Socket.IO and
 * plain-WebSocket inboxes, and `flush()`, which proves that nothing else is on its way by publishing a
 * sentinel every client must receive after the events under test. Run on its own, it checks the helpers.
 */
import { once } from 'node:events'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { compile } from 'realtime-server'
import type { ClientSocket, TestServer } from 'realtime-server/testing'
import { WebSocket } from 'ws'
import { payloads, type EventType } from '../../../plugins/commerce-namespaces/events.js'

export const PLUGIN = 'commerce-namespaces'
export const ALL_NAMESPACES = ['orders', 'customers', 'inventory', 'products', 'payments', 'system']
export const TENANT = 'shop'
const SAFETY_MS = 15000

export const pluginConfig = (options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ ...extra, plugins: { [PLUGIN]: { options } } })

/** A valid payload of every type; order and payment events belong to `owner` (the seed's examples where it has them). */
export function samples (owner: string): Record<EventType, Record<string, unknown>> {
  const product = { productId: 'PROD-456', productName: 'Wireless Headphones', sku: 'WH-001' }
  return {
    'order:created': { orderId: 'ORD-001', customerId: owner, customerName: 'John Doe', total: 1500, status: 'pending', channel: 'online' },
    'order:updated': { orderId: 'ORD-001', customerId: owner, total: 1600, changedFields: ['total'] },
    'order:status_changed': { orderId: 'ORD-001', customerId: owner, customerName: 'John Doe', oldStatus: 'pending', newStatus: 'processing', timestamp: 1700000100000 },
    'order:deleted': { orderId: 'ORD-001' },
    'customer:activity': { customerId: owner, customerName: 'John Doe', action: 'cart_add', productId: 'PROD-456', productName: 'Wireless Headphones', timestamp: 1700000200000 },
    'customer:viewing_product': { customerId: owner, ...product, timestamp: 1700000200000 },
    'customer:added_to_cart': { customerId: owner, productId: 'PROD-456', productName: 'Wireless Headphones', quantity: 1, unitPrice: 2500, cartTotal: 2500, cartItemCount: 1, timestamp: 1700000200000 },
    'customer:online': { customerId: owner, isOnline: true, lastSeen: 1700000200000 },
    'customer:offline': { customerId: owner, isOnline: false, lastSeen: 1700000200000 },
    'inventory:updated': { ...product, oldStock: 50, newStock: 49, difference: -1, reason: 'sale' },
    'inventory:low_stock': { ...product, currentStock: 5, threshold: 10, severity: 'critical' },
    'inventory:out_of_stock': { ...product },
    'inventory:restocked': { ...product, oldStock: 0, newStock: 20, quantityAdded: 20 },
    'product:price_changed': { ...product, oldPrice: 3000, newPrice: 2500, changePercentage: -16.67 },
    'product:created': { ...product, price: 2500, stock: 20, category: 'audio' },
    'product:updated': { ...product, changedFields: ['category'], category: 'audio' },
    'product:deleted': { productId: 'PROD-456' },
    'payment:received': { paymentId: 'PAY-789', orderId: 'ORD-001', customerId: owner, amount: 1500, method: 'credit_card', status: 'success' },
    'payment:failed': { paymentId: 'PAY-790', orderId: 'ORD-001', customerId: owner, amount: 1500, reason: 'card declined', retryable: true },
    'payment:refunded': { paymentId: 'PAY-789', orderId: 'ORD-001', customerId: owner, refundId: 'REF-1', amount: 500 },
    'system:notification': { title: 'New Feature Released', message: 'Check out our new dashboard analytics!', severity: 'info', targetRoles: ['admin', 'manager'], actionUrl: '/analytics' },
    'system:alert': { title: 'Disk', message: 'Disk almost full', severity: 'warning', targetRoles: ['staff', 'customer'] },
    'system:maintenance': { message: 'Down for maintenance', scheduledAt: 1700000800000, duration: 3600000 }
  }
}

/** `POST /api/commerce-namespaces/events` with the test API key, in the test tenant unless the body names one. */
export async function publish (server: TestServer, body: Record<string, unknown>): Promise<{ status: number, body: any }> {
  return await server.request('POST', `/api/${PLUGIN}/events`, { apiKey: true, body: { tenantId: TENANT, ...body } })
}

/** One event as a client saw it. */
export interface Entry {
  type: string
  namespace: string
  data: any
  envelope: any
  /** Every argument (Socket.IO) or the raw text (WebSocket). */
  raw: unknown
}

/** Events received by one client, in order, and a way to wait for one. */
export class Inbox {
  readonly entries: Entry[] = []
  readonly #waiters = new Set<() => void>()

  push (entry: Entry): void {
    this.entries.push(entry)
    for (const w of [...this.#waiters]) w()
  }

  /** Resolves with the first entry matching `pred`, already received or to come. */
  async until (pred: (e: Entry) => boolean, what = 'a matching event'): Promise<Entry> {
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.entries.find(pred)
        if (found === undefined) return
        this.#waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => { this.#waiters.delete(check); reject(new Error(`never received ${what}`)) }, SAFETY_MS)
      this.#waiters.add(check)
      check()
    })
  }

  /** The events under test: everything but the sentinels. */
  get events (): Entry[] { return this.entries.filter((e) => !isSentinel(e)) }
  get types (): string[] { return this.events.map((e) => e.type) }
}

const isSentinel = (e: Entry): boolean => e.type === 'system:maintenance' && typeof e.data?.message === 'string' && e.data.message.startsWith('sentinel-')

/** Records every event of Socket.IO sockets (with `onAny`, the Socket.IO form of the seed's `*` listener). */
export function socketInbox (sockets: Map<string, ClientSocket>, inbox = new Inbox()): Inbox {
  for (const [namespace, socket] of sockets) {
    socket.onAny((type: string, ...args: any[]) => { inbox.push({ type, namespace, data: args[0], envelope: args[1], raw: args }) })
  }
  return inbox
}

/** A plain WebSocket client: event envelopes go to `inbox`, everything else (replies) to `replies`. */
export class WsClient {
  readonly inbox = new Inbox()
  readonly replies = new Inbox()
  #id = 0
  constructor (readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const text = raw.toString()
      const m = JSON.parse(text)
      const entry: Entry = { type: m.type, namespace: m.namespace, data: m.data, envelope: m, raw: text }
      if (typeof m.namespace === 'string') this.inbox.push(entry)
      else this.replies.push(entry)
    })
  }

  /** Sends a message with a fresh `id` and resolves with the reply carrying it. */
  async request (message: Record<string, unknown>): Promise<any> {
    const id = `r${++this.#id}`
    this.ws.send(JSON.stringify({ ...message, id }))
    return (await this.replies.until((e) => e.envelope.id === id, `a reply to ${id}`)).envelope
  }

  get closed (): Promise<{ code: number, reason: string }> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: 'already closed' })
    return once(this.ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }))
  }
}

export interface WsOptions {
  token?: string
  namespaces?: string[]
  /** Send the token as `Authorization: Bearer` instead of `?token=`. */
  header?: boolean
  path?: string
  query?: string
  autoPong?: boolean
}

const wsUrl = (server: TestServer, o: WsOptions): string => {
  const q = new URLSearchParams()
  if (o.token !== undefined && o.header !== true) q.set('token', o.token)
  if (o.namespaces !== undefined) q.set('namespaces', o.namespaces.join(','))
  return `ws://127.0.0.1:${server.port}${o.path ?? '/ws/commerce'}?${o.query ?? q.toString()}`
}

export async function openWs (server: TestServer, o: WsOptions): Promise<WsClient> {
  const ws = new WebSocket(wsUrl(server, o), {
    headers: o.header === true && o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {},
    autoPong: o.autoPong ?? true
  })
  const client = new WsClient(ws)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`refused with ${String(res.statusCode)}`)) })
  })
  return client
}

/** Opens a WebSocket the server must refuse; resolves with the HTTP status and JSON body. */
export async function refusedWs (server: TestServer, o: WsOptions): Promise<{ status: number, body: any }> {
  const ws = new WebSocket(wsUrl(server, o), { headers: o.header === true && o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {} })
  return await new Promise((resolve, reject) => {
    ws.once('open', () => { ws.close(); reject(new Error('the server accepted the WebSocket')) })
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }) })
    })
  })
}

/** A user connected to namespaces on Socket.IO (one socket each) and, unless `ws: false`, on the plain WebSocket. */
export interface User {
  readonly name: string
  readonly tenantId: string
  readonly namespaces: string[]
  readonly sockets: Map<string, ClientSocket>
  readonly sio: Inbox
  readonly ws?: WsClient
  readonly token: string
}

export async function connectUser (server: TestServer, claims: Record<string, unknown>, o: { namespaces?: string[], ws?: boolean, wsServer?: TestServer } = {}): Promise<User> {
  const namespaces = o.namespaces ?? ALL_NAMESPACES
  const token = server.token({ tenantId: TENANT, ...claims })
  const sockets = new Map<string, ClientSocket>()
  for (const ns of namespaces) sockets.set(ns, await server.connect(`/${ns}`, { token }))
  const ws = o.ws === false ? undefined : await openWs(o.wsServer ?? server, { token, namespaces })
  return { name: String(claims.sub), tenantId: String(claims.tenantId ?? TENANT), namespaces, sockets, sio: socketInbox(sockets), ws, token }
}

/** A plain-WebSocket client alone, subscribed to `namespaces`. */
export interface Listener {
  readonly name: string
  readonly namespaces: string[]
  readonly ws: WsClient
}

let sentinels = 0

/**
 * Publishes a sentinel (`system:maintenance`, which every role receives) into every namespace of the users,
 * and waits until each user got it on each namespace and transport. Events published before it were
 * delivered first, so what the inboxes hold afterwards is everything they will ever get.
 */
export async function flush (server: TestServer, users: Array<User | Listener>, tenantId = TENANT): Promise<void> {
  const message = `sentinel-${++sentinels}`
  const waits: Array<Promise<unknown>> = []
  for (const u of users) {
    for (const ns of u.namespaces) {
      const hit = (e: Entry): boolean => e.namespace === ns && e.type === 'system:maintenance' && e.data.message === message
      if ('sio' in u) waits.push(u.sio.until(hit, `${message} in ${ns} (Socket.IO, ${u.name})`))
      if (u.ws !== undefined) waits.push(u.ws.inbox.until(hit, `${message} in ${ns} (WebSocket, ${u.name})`))
    }
  }
  const namespaces = [...new Set(users.flatMap((u) => u.namespaces))]
  for (const ns of namespaces) {
    const res = await publish(server, { tenantId, type: 'system:maintenance', data: { message }, namespace: ns })
    if (res.status !== 200) throw new Error(`sentinel refused: ${JSON.stringify(res.body)}`)
  }
  await Promise.all(waits)
}

/** Types received, sorted, for set comparisons. */
export const typeSet = (entries: Entry[]): string[] => [...new Set(entries.map((e) => e.type))].sort()

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  t.test('every sample payload is valid for its type', async (t) => {
    const all = samples('CUST-123')
    t.same(Object.keys(all).sort(), Object.keys(payloads).sort(), 'one sample per event type')
    for (const [type, data] of Object.entries(all)) {
      t.same(compile(payloads[type as EventType]).problems(data), [], type)
    }
  })

  t.test('Inbox.until finds past and future entries, and sentinels are left out of events', async (t) => {
    const inbox = new Inbox()
    inbox.push({ type: 'a:b', namespace: 'x', data: {}, envelope: {}, raw: null })
    t.equal((await inbox.until((e) => e.type === 'a:b')).type, 'a:b')
    const later = inbox.until((e) => e.type === 'c:d')
    inbox.push({ type: 'system:maintenance', namespace: 'x', data: { message: 'sentinel-0' }, envelope: {}, raw: null })
    inbox.push({ type: 'c:d', namespace: 'x', data: {}, envelope: {}, raw: null })
    t.equal((await later).type, 'c:d')
    t.same(inbox.types, ['a:b', 'c:d'])
  })
}
