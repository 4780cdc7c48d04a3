// The inspector's routes: the page, the overview, one tenant's sockets and rooms, the live tail (SSE), and the actions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerResponse } from 'node:http'
import { NotFound, ValidationFailed } from '../../lib/errors.js'
import type { Core } from '../core.js'
import type { LoadedPlugin } from '../plugins/loader.js'
import { userRoom } from '../rooms.js'
import { adminTenant, type Admin, type AdminAuthenticator } from './admin-auth.js'
import { SOCKETS_MAX, type ClusterView, type NodeInfo, type SocketInfo } from '../cluster/cluster-view.js'
import { sendPageFile } from './page.js'
import { redact } from './redact.js'
import { DisconnectBody, PublishBody, SocketsQuery, TailQuery } from './schemas.js'
import type { Tail, TailRecord } from './tail.js'
import type { TriggerCalls } from './trigger-calls.js'

/** A tail stream whose client stops reading loses events past this many buffered bytes (counted, and said). */
const TAIL_BUFFER_MAX = 1 << 20
const HEARTBEAT_MS = 15_000

export interface InspectorDeps {
  core: Core
  plugins: readonly LoadedPlugin[]
  auth: AdminAuthenticator
  view: ClusterView
  tail: Tail
  triggers: TriggerCalls
}

const kAdmin = Symbol('rt.inspector.admin')
type WithAdmin = FastifyRequest & { [kAdmin]?: Admin }

const adminOf = (request: FastifyRequest): Admin => (request as WithAdmin)[kAdmin]!

/** A tenant the route needs: an unbound key must name it. */
function requiredTenant (admin: Admin, requested: string | undefined): string {
  const tenant = adminTenant(admin, requested)
  if (tenant === undefined) {
    const err = new ValidationFailed('tenantId: is required with an admin key that is not bound to a tenant')
    err.field = 'tenantId'
    throw err
  }
  return tenant
}

/** A node's answer as a tenant-bound admin may see it: its tenant's sockets only. */
function nodeFor (node: NodeInfo, tenant: string | undefined): NodeInfo {
  if (tenant === undefined) return node
  const namespaces: NodeInfo['namespaces'] = {}
  for (const [name, ns] of Object.entries(node.namespaces)) {
    const mine = ns.tenants[tenant] ?? 0
    namespaces[name] = { sockets: mine, tenants: mine > 0 ? { [tenant]: mine } : {} }
  }
  return { ...node, namespaces }
}

export function inspectorRoutes (app: FastifyInstance, deps: InspectorDeps): void {
  const { core, auth, view, tail, triggers } = deps
  const streams = new Set<ServerResponse>()

  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const admin = auth.authenticate(request, reply)
    ;(request as WithAdmin)[kAdmin] = admin
    // Counted by the REST limits as the key it is (not as an unauthenticated address).
    request.principal = admin.tenantId === undefined
      ? { kind: 'apiKey', name: `admin:${admin.name}` }
      : { kind: 'apiKey', name: `admin:${admin.name}`, tenantId: admin.tenantId }
  }
  const page = { onRequest, logLevel: 'warn' as const }

  app.get('/inspector', page, async (_request, reply) => await sendPageFile(reply, 'inspector.html'))
  app.get('/inspector/inspector.js', page, async (_request, reply) => await sendPageFile(reply, 'inspector.js'))
  app.get('/inspector/inspector.css', page, async (_request, reply) => await sendPageFile(reply, 'inspector.css'))

  app.get('/inspector/api/overview', { onRequest }, async (request) => {
    const admin = adminOf(request)
    const tenant = admin.tenantId
    const { answers, partial } = await view.ask<NodeInfo>({ kind: 'node' })
    const nodes = answers.map((n) => nodeFor(n, tenant))
    const namespaces = [...core.registry.entries()].map((entry) => {
      const name = entry.nsp.name
      const tenants: Record<string, number> = {}
      let sockets = 0
      for (const n of nodes) {
        const ns = n.namespaces[name]
        if (ns === undefined) continue
        sockets += ns.sockets
        for (const [t, c] of Object.entries(ns.tenants)) tenants[t] = (tenants[t] ?? 0) + c
      }
      return { name, plugins: [...entry.users.keys()], sockets, tenants }
    })
    const plugins = deps.plugins.map((p) => tenant === undefined
      ? { name: p.name, source: p.source, dependencies: p.dependencies, options: redact(p.options) }
      : { name: p.name, source: p.source, dependencies: p.dependencies })
    const { plugins: _entries, ...rest } = core.config
    return {
      admin: tenant === undefined ? { name: admin.name } : { name: admin.name, tenantId: tenant },
      thisNode: core.nodeId,
      clustered: core.clustered,
      partial,
      nodes,
      namespaces,
      plugins,
      triggers: triggers.list(),
      // Deployment-wide (it names tenants in limits, keys, ...): for keys that are not bound to a tenant only.
      ...(tenant === undefined ? { config: redact(rest) } : {})
    }
  })

  app.get('/inspector/api/sockets', { onRequest, schema: { querystring: SocketsQuery } }, async (request) => {
    const q = request.query as SocketsQuery
    const tenantId = requiredTenant(adminOf(request), q.tenantId)
    if (q.namespace !== undefined && core.registry.get(q.namespace) === undefined) throw new NotFound(`namespace ${q.namespace}`)
    const { answers, partial } = await view.ask<SocketInfo[]>({
      kind: 'sockets',
      tenantId,
      ...(q.namespace === undefined ? {} : { namespace: q.namespace }),
      ...(q.search === undefined ? {} : { search: q.search })
    })
    const sockets = answers.flat().sort((a, b) => a.namespace.localeCompare(b.namespace) || a.userId.localeCompare(b.userId) || a.id.localeCompare(b.id))
    const rooms = new Map<string, number>()
    for (const s of sockets) for (const r of s.rooms) rooms.set(r, (rooms.get(r) ?? 0) + 1)
    return {
      tenantId,
      partial,
      truncated: answers.some((a) => a.length >= SOCKETS_MAX),
      sockets,
      rooms: [...rooms].sort((a, b) => a[0].localeCompare(b[0])).map(([name, count]) => ({ name, sockets: count }))
    }
  })

  app.get('/inspector/api/tail', { onRequest, schema: { querystring: TailQuery } }, (request, reply) => {
    const q = request.query as TailQuery
    const tenantId = adminTenant(adminOf(request), q.tenantId)
    const filter = {
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(q.namespace === undefined ? {} : { namespace: q.namespace }),
      ...(q.event === undefined ? {} : { event: q.event })
    }
    void reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff'
    })
    raw.write(`event: ready\ndata: ${JSON.stringify({ filter })}\n\n`)
    let dropped = 0
    const stop = tail.watch(filter, (record: TailRecord) => {
      if (raw.writableLength > TAIL_BUFFER_MAX) {
        dropped++
        return
      }
      if (dropped > 0) {
        raw.write(`event: dropped\ndata: ${dropped}\n\n`)
        dropped = 0
      }
      raw.write(`data: ${JSON.stringify(record)}\n\n`)
    })
    const heartbeat = setInterval(() => { raw.write(': ping\n\n') }, HEARTBEAT_MS).unref()
    streams.add(raw)
    raw.on('close', () => {
      stop()
      clearInterval(heartbeat)
      streams.delete(raw)
    })
  })

  app.post('/inspector/api/disconnect', { onRequest, schema: { body: DisconnectBody } }, async (request) => {
    const b = request.body as DisconnectBody
    const admin = adminOf(request)
    if ((b.userId === undefined) === (b.socketId === undefined)) {
      const err = new ValidationFailed('body: give either userId or socketId')
      err.field = 'userId'
      throw err
    }
    if (b.namespace !== undefined && core.registry.get(b.namespace) === undefined) throw new NotFound(`namespace ${b.namespace}`)
    const entries = [...core.registry.entries()].filter((e) => b.namespace === undefined || e.nsp.name === b.namespace)
    let disconnected = 0
    if (b.userId !== undefined) {
      const room = userRoom(requiredTenant(admin, b.tenantId), b.userId)
      for (const { nsp } of entries) {
        const found = await nsp.in(room).fetchSockets()
        if (found.length === 0) continue
        disconnected += found.length
        nsp.in(room).disconnectSockets(false)
      }
    } else {
      const tenant = adminTenant(admin, b.tenantId)
      const id = b.socketId!
      for (const { nsp } of entries) {
        const found = await nsp.in(id).fetchSockets()
        // Another tenant's socket is not there, as far as a tenant-bound key can tell.
        const mine = found.filter((s) => s.id === id && (tenant === undefined || s.data.user?.tenantId === tenant))
        if (mine.length === 0) continue
        disconnected += mine.length
        nsp.in(id).disconnectSockets(false)
      }
    }
    if (disconnected === 0) throw new NotFound(b.userId !== undefined ? `no connected socket of user ${b.userId}` : `no connected socket ${b.socketId!}`)
    request.log.info({ admin: admin.name, userId: b.userId, socketId: b.socketId, disconnected }, 'inspector disconnected sockets')
    return { disconnected }
  })

  app.post('/inspector/api/publish', { onRequest, schema: { body: PublishBody } }, async (request, reply) => {
    const b = request.body as PublishBody
    if (!triggers.has(b.url)) throw new NotFound(`trigger ${b.url} (GET /inspector/api/overview lists them)`)
    const admin = adminOf(request)
    const result = await triggers.call(admin, b.url, b.body)
    request.log.info({ admin: admin.name, url: b.url, status: result.status }, 'inspector published a test event')
    return await reply.code(result.status).send(result.body)
  })

  app.addHook('preClose', async () => {
    tail.close()
    for (const raw of streams) raw.end()
    streams.clear()
  })
}
