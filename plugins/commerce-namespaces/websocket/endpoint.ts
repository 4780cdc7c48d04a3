/**
 * The plain WebSocket endpoint of the commerce back office protocol's client (`useWebSocket({ namespaces })`, `ws.handleMessage`).
 * Served on the server's own HTTP server (its `upgrade` event, only for `websocket.path`), authenticated with
 * the same JWT as Socket.IO, it sends the same JSON envelopes with the same filtering (`reaches`).
 * The messages, both ways, are the schemas of messages.ts.
 *
 * A connection has one identity for all its namespaces (its subscriptions): a refresh renews them all, and
 * when the token expires without one the connection is closed (4401), the equivalent of the core
 * disconnecting every namespace socket whose identity expired.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { clientError, isCatalogError, NotReady, validationError, type Identity, type PluginApp, type Problem, type RealtimeError } from 'realtime-server'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { reaches } from '../audience.js'
import { BadMessage, UnknownNamespace } from '../errors.js'
import type { Delivery } from '../publisher.js'
import type { CommerceOptions } from '../schema.js'
import { AnyClientMessage, clientMessages, ClientMessage, type Reply, type ServerMessage } from './messages.js'

/** Close code when the token expired without a refresh (4000-4999: application codes). */
export const CLOSE_TOKEN_EXPIRED = 4401

interface Client {
  readonly ws: WebSocket
  /** Told to the client on `{ action: 'session' }`; a publish's `excludeSessionIds` names it to skip this connection. */
  readonly sessionId: string
  user: Identity
  readonly subscriptions: Set<string>
  alive: boolean
}

/** What the options schema cannot say: the endpoint's path stays clear of Socket.IO's. */
export function pathProblems (opts: CommerceOptions['websocket'], socketioPath: string): string[] {
  const ws = opts.path.replace(/\/+$/, '')
  const sio = socketioPath.replace(/\/+$/, '')
  return opts.enabled && (ws === sio || ws.startsWith(`${sio}/`))
    ? [`websocket.path: "${opts.path}" overlaps socketio.path "${socketioPath}"`]
    : []
}

export interface WebSocketEndpoint {
  /** Sends a delivery to this node's clients that it reaches. */
  deliver (d: Delivery): void
}

/** `RT_ERR_VALIDATION` naming the field of the first problem. */
const invalid = (p: Problem | undefined): RealtimeError => validationError(p ?? { field: '', message: 'is invalid' }, 'message')

/** Answers an upgrade request with the HTTP error of a catalog error (a 500 for any other) and closes the connection. */
function refuse (socket: Duplex, err: unknown): void {
  if (!socket.writable) return
  const status = isCatalogError(err) ? err.statusCode ?? 500 : 500
  const json = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], ...clientError(err) })
  socket.once('finish', () => { socket.destroy() })
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`)
}

export function serveWebSocket (app: PluginApp, opts: CommerceOptions): WebSocketEndpoint {
  const { realtime } = app
  const log = realtime.log
  const { path, maxPayloadBytes, heartbeatMs, closeTimeoutMs } = opts.websocket
  const known = new Set(opts.namespaces)
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes, clientTracking: false })
  const byTenant = new Map<string, Set<Client>>()
  const anyMessage = realtime.compile(AnyClientMessage)
  const clientMessage = realtime.compile(ClientMessage)
  // One validator per action: its problems name the field at fault (those of the union would not).
  const byAction = new Map(Object.entries(clientMessages).map(([action, schema]) => [action, realtime.compile(schema)]))
  let closing = false

  /** `namespaces` as names without a leading slash; an unknown one is a 400 naming its index under `field`. */
  function namespacesOf (list: readonly string[], field: string): string[] {
    const names = list.map((n) => n.replace(/^\//, ''))
    const bad = names.findIndex((n) => !known.has(n))
    const name = names[bad]
    if (name !== undefined) {
      const err: RealtimeError = new UnknownNamespace(`${name} (configured: ${opts.namespaces.join(', ')})`)
      err.field = `${field}.${bad}`
      throw err
    }
    return names
  }

  const send = (client: Client, message: ServerMessage): void => {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify(message))
  }

  // The core's expiry wheel: no timer per client.
  const expiry = realtime.expiry<Client>({
    expired: (client) => { send(client, { type: 'auth_expired', expiredAt: (client.user.exp ?? 0) * 1000, graceMs: expiry.graceMs }) },
    ended: (client) => { client.ws.close(CLOSE_TOKEN_EXPIRED, 'token expired') }
  })

  /** The core's `auth:refresh` checks (same user and tenant; RT_ERR_AUTH_REFRESH), then the new identity and expiry. */
  async function refresh (client: Client, token: string): Promise<{ exp: number | null }> {
    const identity = await realtime.auth.refresh(client.user, { token })
    // The check may have waited (a JWKS fetch): a connection closed meanwhile must not be armed again.
    if (client.ws.readyState === WebSocket.OPEN) {
      client.user = identity
      expiry.arm(client, identity.exp)
    }
    return { exp: identity.exp ?? null }
  }

  async function answer (client: Client, message: unknown): Promise<Reply> {
    if (!anyMessage.check(message)) throw invalid(anyMessage.problems(message)[0])
    if (!clientMessage.check(message)) throw invalid(byAction.get(message.action)?.problems(message)[0])
    switch (message.action) {
      case 'subscribe':
        for (const n of namespacesOf(message.namespaces, 'namespaces')) client.subscriptions.add(n)
        return { type: 'subscribed', namespaces: [...client.subscriptions].sort() }
      case 'unsubscribe':
        for (const n of namespacesOf(message.namespaces, 'namespaces')) client.subscriptions.delete(n)
        return { type: 'unsubscribed', namespaces: [...client.subscriptions].sort() }
      case 'ping':
        return { type: 'pong', timestamp: Date.now() }
      case 'session':
        return { type: 'session', sessionId: client.sessionId }
      case 'refresh':
        return { type: 'refreshed', ...await refresh(client, message.token) }
    }
  }

  /** The `id` of a message, when it has a usable one. */
  const idOf = (message: unknown): string | number | undefined =>
    typeof message === 'object' && message !== null && 'id' in message && (typeof message.id === 'string' || typeof message.id === 'number')
      ? message.id
      : undefined

  function onMessage (client: Client, raw: RawData): void {
    let message: unknown
    try {
      message = JSON.parse(raw.toString())
    } catch {
      send(client, { type: 'error', error: clientError(new BadMessage('not JSON')) })
      return
    }
    const id = idOf(message)
    const withId = (reply: Reply): Reply => id === undefined ? reply : { ...reply, id }
    answer(client, message).then(
      (reply) => { send(client, withId(reply)) },
      (err: unknown) => {
        if (!isCatalogError(err)) log.error({ err }, 'websocket message failed')
        send(client, withId({ type: 'error', error: clientError(err) }))
      })
  }

  function register (ws: WebSocket, user: Identity, namespaces: string[]): void {
    const client: Client = { ws, sessionId: randomUUID(), user, subscriptions: new Set(namespaces), alive: true }
    let set = byTenant.get(user.tenantId)
    if (set === undefined) byTenant.set(user.tenantId, set = new Set())
    set.add(client)
    ws.on('message', (raw) => { onMessage(client, raw) })
    ws.on('pong', () => { client.alive = true })
    ws.on('error', (err) => { log.debug({ err: err.message, userId: user.userId }, 'websocket client error') })
    ws.once('close', () => {
      expiry.disarm(client)
      const own = byTenant.get(client.user.tenantId)
      own?.delete(client)
      if (own?.size === 0) byTenant.delete(client.user.tenantId)
    })
    expiry.arm(client, user.exp)
  }

  async function accept (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    let user: Identity
    try {
      // As the Socket.IO handshake: RT_ERR_AUTH_NO_TOKEN, RT_ERR_AUTH_INVALID_TOKEN, RT_ERR_AUTH_TOKEN_EXPIRED, ...
      user = await realtime.auth.verify(realtime.auth.token(req))
    } catch (err) {
      log.info({ code: clientError(err).code }, 'websocket authentication refused')
      refuse(socket, err)
      return
    }
    let namespaces: string[]
    try {
      const requested = url.searchParams.get('namespaces')
      namespaces = requested === null || requested === '' ? [] : namespacesOf(requested.split(','), 'namespaces')
    } catch (err) {
      refuse(socket, err)
      return
    }
    if (closing) {
      refuse(socket, new NotReady('shutting down'))
      return
    }
    if (socket.destroyed) return
    wss.handleUpgrade(req, socket, head, (ws) => { register(ws, user, namespaces) })
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== path) return
    // A reset while the token is checked, or after a refusal, must not become an uncaught error; once `ws`
    // owns the socket it handles errors itself.
    socket.on('error', () => {})
    accept(req, socket, head, url).catch((err: unknown) => {
      log.error({ err }, 'websocket upgrade failed')
      socket.destroy()
    })
  }
  app.server.on('upgrade', onUpgrade)

  const heartbeat = setInterval(() => {
    for (const set of byTenant.values()) {
      for (const client of set) {
        if (!client.alive) {
          client.ws.terminate()
          continue
        }
        client.alive = false
        client.ws.ping()
      }
    }
  }, heartbeatMs)
  heartbeat.unref()

  app.addHook('preClose', async () => {
    closing = true
    clearInterval(heartbeat)
    app.server.off('upgrade', onUpgrade)
    const clients = [...byTenant.values()].flatMap((s) => [...s])
    await Promise.all(clients.map(async ({ ws }) => {
      if (ws.readyState === WebSocket.CLOSED) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { ws.terminate() }, closeTimeoutMs)
        ws.once('close', () => { clearTimeout(timer); resolve() })
        ws.close(1001, 'server shutting down')
      })
    }))
    wss.close()
  })

  return {
    deliver (d) {
      const set = byTenant.get(d.tenantId)
      if (set === undefined) return
      let frame: Buffer | undefined
      for (const client of set) {
        if (client.subscriptions.has(d.namespace) && reaches(d.audience, client.user, client.sessionId) && client.ws.readyState === WebSocket.OPEN) {
          // Encoded once for every recipient, sent as a text frame.
          client.ws.send(frame ??= Buffer.from(d.text), { binary: false })
        }
      }
    }
  }
}
