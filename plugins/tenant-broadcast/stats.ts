/**
 * GET /api/tenant-broadcast/stats: the WhatsApp CRM rooms protocol's getConnectionStats over REST. Connected sockets, rooms
 * and sockets per tenant of the plugin's namespace, across the cluster (`?local=true`: this node only).
 * The numbers span every tenant, so only an API key that is not bound to a tenant may read them.
 */
import { Type, type PluginApp, type PluginNamespace } from 'realtime-server'
import { StatsForbidden } from './errors.js'

const Query = Type.Object({ local: Type.Optional(Type.Enum(['true', 'false'])) }, { additionalProperties: false })

export function registerStats (app: PluginApp, ns: PluginNamespace): void {
  const { realtime } = app
  app.get('/stats', { schema: { querystring: Query }, onRequest: realtime.authenticate('publisher') }, async (request) => {
    const principal = request.principal
    if (principal === null || principal.kind !== 'apiKey' || principal.tenantId !== undefined) throw new StatsForbidden()
    const local = (request.query as { local?: string }).local === 'true'
    const s = await ns.stats({ local })
    const body = { namespace: ns.name, connected: s.sockets, rooms: s.rooms, tenants: s.tenants, node: local ? realtime.nodeId : undefined, partial: s.partial }
    return body
  })
}
