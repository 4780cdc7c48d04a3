/** The hello plugin's REST triggers, under /api/hello. */
import type { PluginApp, PluginNamespace } from 'realtime-server'
import { Announce } from './events.js'

export function registerRoutes (app: PluginApp, ns: PluginNamespace): void {
  // POST /api/hello/announce { tenantId?, text }: `tenant: true` adds tenantId and resolves request.tenantId.
  app.realtime.trigger('/announce', { body: Announce, tenant: true, summary: 'Announces a text to the whole tenant (`hello:announcement`).' }, async (request) =>
    await ns.publish({ tenantId: request.tenantId, event: 'hello:announcement', payload: { text: request.body.text }, count: true }))
}
