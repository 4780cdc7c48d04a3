/**
 * The control routes, `/api/control/...`: a backend controls connected clients (list a user's sockets, disconnect a
 * user or a socket, move a user into or out of a declared room). Registered as triggers of the core, so they
 * authenticate, bind the tenant, validate, count against the REST limits, log and document themselves exactly as a
 * plugin's triggers do. See docs/control.md.
 */
import type { FastifyInstance } from 'fastify'
import { PluginInvalid } from '../../lib/errors.js'
import type { Core } from '../core.js'
import { addTrigger } from '../plugins/api.js'
import { Control } from './control.js'
import { DisconnectSocketBody, DisconnectSocketAnswer, DisconnectUserAnswer, DisconnectUserBody, RoomAnswer, RoomBody, SocketsAnswer, SocketsQuery } from './schemas.js'

/** The routes' prefix is `/api/<this>`, as a plugin's is `/api/<name>`: no plugin may take the name. */
export const CONTROL = 'control'

/** Adds the control routes; call after the REST limits and before the plugins register. */
export async function controlRoutes (app: FastifyInstance, core: Core, plugins: ReadonlyArray<{ readonly name: string }>): Promise<void> {
  if (plugins.some((p) => p.name === CONTROL)) {
    throw new PluginInvalid(`"${CONTROL}": the name is reserved for the core's control routes (/api/${CONTROL}); rename the plugin`)
  }
  const control = new Control(core)
  await app.register(async function control$ (scope) {
    addTrigger(core, scope, CONTROL, '/sockets', {
      method: 'GET',
      querystring: SocketsQuery,
      tenant: true,
      response: SocketsAnswer,
      errors: ['RT_ERR_NOT_FOUND'],
      summary: 'Lists a user\'s sockets on every node.',
      description: 'Each node answers for its own sockets; `partial` when one did not answer within publish.countTimeoutMs.'
    }, async (request) => {
      const { userId, namespace } = request.query
      const { sockets, partial } = await control.userSockets(request.tenantId, userId, namespace)
      return { tenantId: request.tenantId, userId, partial, sockets }
    })

    addTrigger(core, scope, CONTROL, '/users/disconnect', {
      body: DisconnectUserBody,
      tenant: true,
      response: DisconnectUserAnswer,
      errors: ['RT_ERR_NOT_FOUND'],
      summary: 'Disconnects every socket of a user, on every node.',
      description: 'Each socket gets `rt:disconnect` { reason } first, then is disconnected (`io server disconnect`: the client does not reconnect by itself). A user without sockets is answered `disconnected: 0`.'
    }, async (request) => {
      const { userId, namespace, reason } = request.body
      const result = await control.disconnectUser(request.tenantId, userId, namespace, reason)
      request.log.info({ principal: principalName(request.principal), tenantId: request.tenantId, userId, namespace, disconnected: result.disconnected, partial: result.partial }, 'control disconnected a user')
      return result
    })

    addTrigger(core, scope, CONTROL, '/sockets/disconnect', {
      body: DisconnectSocketBody,
      tenant: true,
      response: DisconnectSocketAnswer,
      errors: ['RT_ERR_NOT_FOUND'],
      summary: 'Disconnects one socket of the tenant, wherever it is connected.',
      description: 'The socket gets `rt:disconnect` { reason } first. A socket of another tenant, or none, is RT_ERR_NOT_FOUND.'
    }, async (request) => {
      const { socketId, reason } = request.body
      const { namespace, node } = await control.disconnectSocket(request.tenantId, socketId, reason)
      request.log.info({ principal: principalName(request.principal), tenantId: request.tenantId, socketId, namespace }, 'control disconnected a socket')
      return { disconnected: 1, namespace, node }
    })

    for (const action of ['join', 'leave'] as const) {
      addTrigger(core, scope, CONTROL, `/users/${action}`, {
        body: RoomBody,
        tenant: true,
        response: RoomAnswer,
        errors: ['RT_ERR_NOT_FOUND', 'RT_ERR_ROOM_UNDECLARED'],
        summary: action === 'join' ? 'Adds every socket of a user, on every node, to a declared room.' : 'Removes every socket of a user, on every node, from a declared room.',
        description: 'The room must match a room template that a plugin on the namespace declares in its events catalog (`rooms`); it is scoped to the tenant. ' +
          'Sockets the user connects later are not affected.'
      }, async (request) => {
        const { userId, room } = request.body
        const namespace = request.body.namespace ?? '/'
        const { template, sockets, partial } = await control.moveUser(action, request.tenantId, userId, namespace, room)
        request.log.info({ principal: principalName(request.principal), tenantId: request.tenantId, userId, namespace, room, sockets }, action === 'join' ? 'control added a user to a room' : 'control removed a user from a room')
        return { namespace, room, template: template.template, plugin: template.plugin, sockets, partial }
      })
    }
  }, { prefix: `/api/${CONTROL}` })
}

/** Who asked, for the log line: an API key by its configured name (never the key), a user by tenant and id. */
function principalName (principal: { kind: 'apiKey', name: string } | { kind: 'user', identity: { userId: string } }): string {
  return principal.kind === 'apiKey' ? `key:${principal.name}` : `user:${principal.identity.userId}`
}
