/**
 * The AsyncAPI 3 document of the socket protocol for one config, from the plugins' event catalogs: a channel per
 * namespace (its client events as `receive` operations with their ack as reply, its server events as `send`
 * operations with the meta argument as headers), a channel per room template, and a channel per plain WebSocket endpoint.
 */
import type { TSchema } from 'typebox'
import type { ServerConfig } from '../../config/schema.js'
import { clientEvent, serverEvent, type ClientEvent, type ServerEvent } from '../plugins/catalog.js'
import { coreCatalog } from './core-events.js'
import { plainSchema } from './json-schema.js'
import { packageVersion } from './package-version.js'
import type { PluginContract } from './registry.js'

type Json = Record<string, any>

/** The meta argument a server event carries by default (src/core/publish.ts `EventMeta`). */
export const EventMetaSchema: Json = {
  type: 'object',
  required: ['eventId', 'timestamp'],
  properties: { eventId: { type: 'string', description: 'Unique per publish (a client dedups with it).' }, timestamp: { type: 'number', description: 'epoch ms' } },
  description: 'The second argument of the event (Socket.IO), after the payload.'
}

/** The error an ack carries instead of its reply. */
export function errorAckSchema (codes: readonly string[]): Json {
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: [...codes] },
          message: { type: 'string' },
          field: { type: 'string', description: 'The invalid field (RT_ERR_VALIDATION).' },
          retryAfterMs: { type: 'number', description: 'With RT_ERR_RATE_LIMITED.' }
        }
      }
    }
  }
}

/** The codes a client event's ack may carry: the core's validation and rate limit, and the catalog's. */
export const ackErrorCodes = (entry: ClientEvent): string[] => [...new Set(['RT_ERR_VALIDATION', 'RT_ERR_RATE_LIMITED', ...(entry.errors ?? [])])]

/** The reply of a successful ack when the catalog declares none. */
export const OkAck: Json = { type: 'object', required: ['ok'], properties: { ok: { const: true } } }

/** A key safe for the document's maps (letters, digits, `.`, `_`, `-`). */
const key = (text: string): string => text === '*' ? 'any' : text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'root'

const namespaceKey = (namespace: string): string => `ns.${key(namespace)}`

/** The message of one event of a plugin's catalog (a client's payload, or a server event's first argument). */
function eventMessage (plugin: string, event: string, description: string | undefined, payload: Parameters<typeof plainSchema>[0]): Json {
  return { name: event, title: event, summary: description ?? `${event} (${plugin})`, contentType: 'application/json', payload: plainSchema(payload), 'x-plugin': plugin }
}

interface Options {
  /** Host (and port) clients connect to; `localhost:<server.port>` by default. */
  host?: string
}

/** The AsyncAPI 3.0 document of the enabled config's socket protocol. */
export function asyncapiDocument (config: Readonly<ServerConfig>, contracts: readonly PluginContract[], options: Options = {}): Json {
  const host = options.host ?? `localhost:${config.server.port}`
  const channels: Json = {}
  const operations: Json = {}
  const servers: Json = {
    socketio: {
      host,
      protocol: 'ws',
      pathname: config.socketio.path,
      title: 'Socket.IO',
      description: `Socket.IO 4 (Engine.IO v4; transports ${config.socketio.transports.join(', ')}). Every namespace authenticates the handshake with a JWT.`,
      security: [{ $ref: '#/components/securitySchemes/socketioJwt' }]
    }
  }
  const namespaces = [...new Set(contracts.flatMap((c) => c.namespaces))].sort()

  const channelOf = (namespace: string): Json => {
    const id = namespaceKey(namespace)
    channels[id] ??= {
      address: namespace,
      title: `Namespace ${namespace}`,
      description: `Socket.IO namespace \`${namespace}\`. Auth: a JWT as \`auth.token\` in the handshake (or \`Authorization: Bearer\`), refused with \`connect_error\` \`data.code\` RT_ERR_AUTH_*; ` +
        'the socket joins its tenant, user and role rooms. Plugins: ' + contracts.filter((c) => c.namespaces.includes(namespace)).map((c) => c.plugin).join(', ') + '.',
      servers: [{ $ref: '#/servers/socketio' }],
      messages: {}
    }
    return channels[id]
  }

  const addClient = (plugin: string, event: string, entry: ClientEvent, on: readonly string[]): void => {
    const errors = ackErrorCodes(entry)
    for (const namespace of on) {
      const id = namespaceKey(namespace)
      const channel = channelOf(namespace)
      const name = `client.${key(event)}`
      channel.messages[name] = eventMessage(plugin, event, entry.description, entry.payload)
      channel.messages[`ack.${key(event)}`] = {
        name: `${event} ack`,
        title: `${event} acknowledgement`,
        summary: `The ack of \`${event}\`: the reply, or \`{ error: { code, message } }\` with ${errors.join(', ')}.`,
        contentType: 'application/json',
        payload: { oneOf: [entry.ack === undefined ? OkAck : plainSchema(entry.ack), errorAckSchema(errors)] },
        'x-plugin': plugin
      }
      operations[`${id}.receive.${key(event)}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        summary: entry.description ?? event,
        messages: [{ $ref: `#/channels/${id}/messages/${name}` }],
        reply: { channel: { $ref: `#/channels/${id}` }, messages: [{ $ref: `#/channels/${id}/messages/ack.${key(event)}` }] },
        'x-errors': errors,
        'x-plugin': plugin
      }
    }
  }

  const addServer = (plugin: string, event: string, entry: ServerEvent, on: readonly string[]): void => {
    for (const namespace of on) {
      const nsId = namespaceKey(namespace)
      const targets = (entry.rooms ?? []).length === 0 ? [nsId] : entry.rooms!.map((room) => `${nsId}.room.${key(room)}`)
      for (const id of targets) {
        const channel = id === nsId ? channelOf(namespace) : channels[id]
        if (channel === undefined) throw new Error(`"${plugin}": server event ${event} names room ${id}, which its catalog's rooms does not declare for ${namespace}`)
        const name = `server.${key(event)}`
        channel.messages[name] = {
          ...eventMessage(plugin, event, entry.description, entry.payload),
          ...(entry.meta === false ? {} : { headers: entry.meta === undefined ? EventMetaSchema : plainSchema(entry.meta) }),
          'x-socketio-arguments': entry.meta === false ? ['payload'] : ['payload', 'meta']
        }
        operations[`${id}.send.${key(event)}`] = {
          action: 'send',
          channel: { $ref: `#/channels/${id}` },
          summary: entry.description ?? event,
          messages: [{ $ref: `#/channels/${id}/messages/${name}` }],
          'x-plugin': plugin
        }
      }
    }
  }

  for (const namespace of namespaces) channelOf(namespace)
  for (const contract of contracts) {
    for (const [template, room] of Object.entries(contract.catalog.rooms ?? {})) {
      for (const namespace of room.namespaces ?? contract.namespaces) {
        const parameters = Object.fromEntries([...template.matchAll(/\{([^}]+)\}/g)].map((m) => [m[1]!, { description: `The ${m[1]} of the room.` }]))
        channels[`${namespaceKey(namespace)}.room.${key(template)}`] = {
          address: template,
          title: `Room ${template} of ${namespace}`,
          description: `${room.description ?? 'A room'} (plugin ${contract.plugin}, namespace ${namespace}; the core scopes it to the tenant: no event crosses tenants).`,
          servers: [{ $ref: '#/servers/socketio' }],
          ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
          messages: {}
        }
      }
    }
  }
  for (const [event, value] of Object.entries(coreCatalog.client ?? {})) addClient('core', event, clientEvent(value), namespaces)
  for (const [event, value] of Object.entries(coreCatalog.server ?? {})) addServer('core', event, serverEvent(value), namespaces)
  for (const contract of contracts) {
    const { plugin, catalog } = contract
    for (const [event, value] of Object.entries(catalog.client ?? {})) {
      const on = [...new Set(contract.handled.filter((h) => h.event === event).map((h) => h.namespace))]
      addClient(plugin, event, clientEvent(value), on)
    }
    for (const [event, value] of Object.entries(catalog.server ?? {})) {
      const entry = serverEvent(value)
      addServer(plugin, event, entry, entry.namespaces ?? contract.namespaces)
    }
    const ws = catalog.websocket
    if (ws !== undefined) addWebSocket(plugin, ws, host, servers, channels, operations)
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'realtime-server socket protocol',
      version: packageVersion(),
      description: 'Socket.IO namespaces, events, acks and rooms of the enabled plugins (and their plain WebSocket endpoints), generated from their event catalogs. ' +
        'A client event is a `receive` operation whose reply is its ack; a server event is a `send` operation whose headers are its meta argument.'
    },
    defaultContentType: 'application/json',
    servers,
    channels,
    operations,
    components: {
      securitySchemes: {
        socketioJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The JWT as `auth.token` in the Socket.IO handshake (a `Bearer ` prefix is accepted) or as `Authorization: Bearer <jwt>`.' },
        websocketToken: { type: 'httpApiKey', name: 'token', in: 'query', description: 'The JWT as the `token` query parameter of the upgrade request, or `Authorization: Bearer <jwt>`.' }
      }
    }
  }
}

function addWebSocket (plugin: string, ws: NonNullable<PluginContract['catalog']['websocket']>, host: string, servers: Json, channels: Json, operations: Json): void {
  const server = `websocket.${key(plugin)}`
  servers[server] = {
    host,
    protocol: 'ws',
    pathname: ws.path,
    title: `Plain WebSocket of ${plugin}`,
    description: ws.description ?? `JSON text messages of ${plugin}.`,
    security: [{ $ref: '#/components/securitySchemes/websocketToken' }]
  }
  const id = `ws.${key(plugin)}`
  const messages: Json = {}
  const message = (direction: 'client' | 'server', name: string, schema: TSchema): string => {
    const k = `${direction}.${key(name)}`
    messages[k] = { name, title: name, summary: (schema as { description?: string }).description ?? name, contentType: 'application/json', payload: plainSchema(schema) }
    return k
  }
  const client = Object.entries(ws.client).map(([name, schema]) => message('client', name, schema))
  const sent = Object.entries(ws.server).map(([name, schema]) => message('server', name, schema))
  channels[id] = { address: ws.path, title: `WebSocket ${ws.path}`, description: ws.description ?? `The plain WebSocket endpoint of ${plugin}.`, servers: [{ $ref: `#/servers/${server}` }], messages }
  operations[`${id}.receive`] = { action: 'receive', channel: { $ref: `#/channels/${id}` }, summary: 'Messages a client sends.', messages: client.map((k) => ({ $ref: `#/channels/${id}/messages/${k}` })) }
  operations[`${id}.send`] = { action: 'send', channel: { $ref: `#/channels/${id}` }, summary: 'Messages the server sends (replies, errors, event envelopes).', messages: sent.map((k) => ({ $ref: `#/channels/${id}/messages/${k}` })) }
}
