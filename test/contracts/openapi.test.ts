// The OpenAPI document: served at docs.openapi.path, valid OpenAPI 3.1, every trigger with its security and catalog error codes.
import t from 'tap'
import { startServer } from 'realtime-server/testing'
import SwaggerParser from '@apidevtools/swagger-parser'
import { allPlugins, triggerRoutes } from '../fixtures/contracts/all-plugins.js'

type Json = Record<string, any>

t.test('the OpenAPI document lists every trigger of every enabled plugin with its security and error codes', async (t) => {
  const server = await startServer({ config: { plugins: allPlugins } })
  t.teardown(() => server.close())
  const res = await server.request('GET', '/docs/openapi.json')
  t.equal(res.status, 200)
  const doc = res.body as Json
  t.equal(doc.openapi, '3.1.0')
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearerJwt'])
  t.equal(doc.components.securitySchemes.apiKey.name, 'x-api-key')

  for (const { method, url } of triggerRoutes) {
    const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const op = doc.paths[path]?.[method.toLowerCase()]
    t.ok(op, `${method} ${path} documented`)
    if (op === undefined) continue
    t.same(op.security, [{ apiKey: [] }, { bearerJwt: [] }], `${method} ${path} security`)
    t.ok(op.responses['401'], `${method} ${path} documents 401`)
    t.match(op.responses['401'].content['application/json'].schema.allOf[1].properties.code.enum, ['RT_ERR_UNAUTHORIZED'])
    t.ok(op['x-rt-error-codes'].includes('RT_ERR_RATE_LIMITED'), `${method} ${path} names RT_ERR_RATE_LIMITED`)
    t.ok(op.tags.length === 1, `${method} ${path} tagged with its plugin`)
  }
  // Health routes are there, the document itself is not.
  t.ok(doc.paths['/health']?.get)
  t.notOk(doc.paths['/docs/openapi.json'])

  // The third-party example: its route, its $id schema kept by name, its plugin-specific error code.
  const announce = doc.paths['/api/hello/announce'].post
  t.same(announce.tags, ['hello'])
  t.match(announce.summary, /announces/i)
  t.ok(announce.responses['400'].content['application/json'].schema.allOf[1].properties.code.enum.includes('RT_ERR_VALIDATION'))
  t.ok(announce.responses['403'], 'tenant: true documents 403')
  const body = announce.requestBody.content['application/json'].schema
  const schema = body.$ref === undefined ? body : doc.components.schemas[body.$ref.split('/').pop()]
  t.ok(schema.properties.text && schema.properties.tenantId, 'body has text and the tenantId that tenant: true adds')

  // Every $ref resolves.
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!)
  for (const ref of new Set(refs)) t.ok(doc.components.schemas[decodeURIComponent(ref)], `$ref ${ref} resolves`)
  t.ok(doc.components.schemas.RealtimeError)
  structurallyValid(t, doc)
  // The OpenAPI 3.1 meta-schema and its $ref rules (a copy: validate dereferences in place).
  await t.resolves(SwaggerParser.validate(structuredClone(doc) as any), 'valid OpenAPI 3.1')
})

t.test('docs.openapi.path moves the document, docs.openapi.enabled: false removes it, docs.ui serves Swagger UI', async (t) => {
  const moved = await startServer({ config: { docs: { openapi: { path: '/contract/rest.json' }, ui: true }, plugins: { hello: { from: './examples/hello-plugin' } } } })
  t.teardown(() => moved.close())
  t.equal((await moved.request('GET', '/contract/rest.json')).status, 200)
  t.equal((await moved.request('GET', '/docs/openapi.json')).status, 404)
  const ui = await fetch(`${moved.url}/docs/static/index.html`)
  t.equal(ui.status, 200)
  t.match(await ui.text(), /swagger/i)

  const off = await startServer({ config: { docs: { openapi: { enabled: false } } } })
  t.teardown(() => off.close())
  t.equal((await off.request('GET', '/docs/openapi.json')).status, 404)
})

/** The OpenAPI 3.1 rules we can check without a validator: every operation has responses, every path parameter is declared. */
function structurallyValid (t: { ok: (v: unknown, m: string) => unknown }, doc: Json): void {
  t.ok(doc.info.title && doc.info.version, 'info has a title and version')
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(item)) {
      t.ok(Object.keys(op.responses ?? {}).length > 0, `${method} ${path} has responses`)
      for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
        t.ok((op.parameters ?? []).some((p: Json) => p.in === 'path' && p.name === name && p.required === true), `${method} ${path} declares {${name}}`)
      }
    }
  }
}
