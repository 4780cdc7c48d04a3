// The live inspector (/inspector): wiring of its admin credentials, live tail, trigger calls and routes, over the core's cluster view.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Core } from '../core.js'
import type { LoadedPlugin } from '../plugins/loader.js'
import { AdminAuthenticator } from './admin-auth.js'
import { inspectorRoutes } from './routes.js'
import { Tail } from './tail.js'
import { TriggerCalls } from './trigger-calls.js'

/**
 * Adds the inspector to the root instance; call before the plugins register (it watches their trigger routes).
 * Without `admin.keys` its routes answer RT_ERR_INSPECTOR_OFF and nothing else is set up.
 */
export function inspector (app: FastifyInstance, core: Core, plugins: readonly LoadedPlugin[]): void {
  const auth = new AdminAuthenticator(core.config.admin)
  if (!auth.enabled) {
    const off = { handler: (request: FastifyRequest, reply: FastifyReply) => { auth.authenticate(request, reply) } }
    app.route({ method: 'GET', url: '/inspector', ...off })
    app.route({ method: ['GET', 'POST'], url: '/inspector/*', ...off })
    return
  }
  const tail = new Tail({ registry: core.registry, bus: core.bus, nodeId: core.nodeId, log: core.log })
  const view = core.clusterView
  view.observeTail(tail)
  const triggers = new TriggerCalls()
  triggers.attach(app)
  inspectorRoutes(app, { core, plugins, auth, view, tail, triggers })
}
