/** The OpenAPI 3.1 document of every REST route (core and plugins), made by @fastify/swagger from the route schemas and each trigger's contract. */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { ServerConfig } from '../../config/schema.js'
import { errorCatalog } from '../../lib/errors.js'
import { packageVersion } from './package-version.js'
import type { TriggerContract } from '../plugins/api.js'

type Json = Record<string, any>

/** The REST error body every error answer carries (src/core/http-errors.ts), shared by reference. */
export const ErrorBody = {
  type: 'object',
  required: ['statusCode', 'error', 'code', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string', description: 'The HTTP reason phrase.' },
    code: { type: 'string', pattern: '^RT_', description: 'The catalog code (docs/errors.md).' },
    message: { type: 'string' },
    field: { type: 'string', description: 'The invalid field, with RT_ERR_VALIDATION.' }
  },
  example: { statusCode: 400, error: 'Bad Request', code: 'RT_ERR_VALIDATION', message: 'Invalid payload: body/type must be string', field: 'type' }
} as const

/** The codes every trigger may answer, by what it declares: its auth, its tenant, its schemas, and the core's limits. */
export function triggerErrors (contract: TriggerContract): string[] {
  const codes = ['RT_ERR_UNAUTHORIZED']
  if (contract.auth === 'publisher' || contract.tenant) codes.push('RT_ERR_FORBIDDEN')
  if (contract.validated) codes.push('RT_ERR_VALIDATION', 'RT_ERR_BAD_REQUEST')
  codes.push('RT_ERR_RATE_LIMITED', 'RT_ERR_NOT_READY', 'RT_ERR_INTERNAL')
  for (const code of contract.errors) if (!codes.includes(code)) codes.push(code)
  return codes
}

const securityOf = (): Json[] => [{ apiKey: [] }, { bearerJwt: [] }]

/** Adds a trigger's security, success and catalog error responses to its OpenAPI operation. */
function documentTrigger (operation: Json, contract: TriggerContract, statusOf: Map<string, number>): void {
  operation.security = securityOf()
  const responses: Json = operation.responses ?? {}
  const success = String(contract.status)
  const ok = responses[success] ?? responses['200'] ?? { description: 'Success' }
  if (success !== '200') delete responses['200']
  responses[success] = ok
  const byStatus = new Map<number, string[]>()
  for (const code of triggerErrors(contract)) {
    const status = statusOf.get(code)
    if (status === undefined) throw new Error(`route of "${contract.plugin}" declares error ${code}, which is not in the error catalog`)
    let list = byStatus.get(status)
    if (list === undefined) byStatus.set(status, list = [])
    list.push(code)
  }
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = {
      description: `Error: ${codes.join(', ')} (docs/errors.md)`,
      content: {
        'application/json': {
          schema: { allOf: [{ $ref: '#/components/schemas/RealtimeError' }, { properties: { code: { enum: codes } } }] },
          example: { statusCode: status, code: codes[0], message: '...' }
        }
      }
    }
  }
  operation.responses = responses
  operation['x-rt-error-codes'] = triggerErrors(contract)
}

/** The OpenAPI path of a Fastify URL (`/a/:id` is `/a/{id}`), without a trailing slash (a prefix's `/` route is listed either way). */
const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/(.)\/$/, '$1')

/**
 * Registers @fastify/swagger (before any route, so it sees them all) and the routes serving the document
 * (`docs.openapi.path`) and, with `docs.ui`, Swagger UI at `/docs`.
 */
export async function openapiDocs (app: FastifyInstance, config: Readonly<ServerConfig>): Promise<void> {
  const contracts = new Map<string, TriggerContract>()
  app.addHook('onRoute', (route) => {
    const contract = route.config?.contract
    if (contract === undefined) return
    for (const method of [route.method].flat()) contracts.set(`${method.toLowerCase()} ${openapiPath(route.url)}`, contract)
  })
  const statusOf = new Map(errorCatalog().map((e) => [e.code, e.statusCode]))
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'realtime-server REST API', version: packageVersion(), description: 'REST triggers of the enabled plugins and the core\'s health routes. Errors carry a catalog code (docs/errors.md).' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'A key of auth.apiKeys (a tenant-bound key acts on its tenant only).' },
          bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user JWT; triggers with auth `publisher` need a role of auth.publishRoles.' }
        }
      },
      tags: [{ name: 'health', description: 'Liveness and readiness' }]
    },
    // A TypeBox schema with an $id keeps its name in components.schemas instead of `def-N`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` },
    transform: ({ schema, url, route }) => {
      const hidden = url.startsWith('/docs') || url === config.docs.openapi.path || url === config.docs.asyncapi.path
      if (url === '/health' || url === '/ready') return { schema: { ...schema, tags: ['health'] } as any, url }
      return { schema: (hidden && route.config?.contract === undefined ? { ...schema, hide: true } : schema) as any, url }
    },
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: Json }).openapiObject
      document.components = { ...document.components, schemas: { ...document.components?.schemas, RealtimeError: ErrorBody } }
      for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
        for (const [method, operation] of Object.entries<Json>(item)) {
          const contract = contracts.get(`${method} ${openapiPath(path)}`)
          if (contract !== undefined) documentTrigger(operation, contract, statusOf)
        }
      }
      return document
    }
  })
  if (config.docs.ui) await app.register(swaggerUi, { routePrefix: '/docs' })
  const path = config.docs.openapi.path
  app.get(path, { schema: { hide: true } as any, logLevel: 'warn' }, async () => app.swagger())
}
