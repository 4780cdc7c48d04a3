// JSON Schema to TypeScript for the client definitions: each schema form the catalogs use, written from TypeScript's own spelling.
import t from 'tap'
import { tsType } from '../../src/core/contracts/ts-type.js'
import { namespaceTypeName } from '../../src/core/contracts/client-types.js'

t.test('schema forms', async (t) => {
  t.equal(tsType(undefined), 'unknown')
  t.equal(tsType(true), 'unknown')
  t.equal(tsType(false), 'never')
  t.equal(tsType({ const: 'x' }), '"x"')
  t.equal(tsType({ enum: ['a', 1] }), '"a" | 1')
  t.equal(tsType({ enum: [] }), 'never')
  t.equal(tsType({ anyOf: [{ type: 'string' }, { type: 'null' }] }), 'string | null')
  t.equal(tsType({ oneOf: [{ type: 'integer' }, { type: 'number' }] }), 'number')
  t.equal(tsType({ allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { anyOf: [{ const: 1 }, { const: 2 }] }] }), '{\n  a: string\n} & (1 | 2)')
  t.equal(tsType({ type: ['string', 'null'] }), 'string | null')
  t.equal(tsType({ type: 'boolean' }), 'boolean')
  t.equal(tsType({ type: 'undefined' }), 'undefined')
  t.equal(tsType({ type: 'array', items: { type: 'string' } }), 'Array<string>')
  t.equal(tsType({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] }), '[string, number]')
  t.equal(tsType({ type: 'object', patternProperties: { '^.*$': { type: 'number' } } }), '{\n  [key: string]: number\n}')
  t.equal(tsType({ type: 'object' }), 'Record<string, unknown>')
  t.equal(tsType({ type: 'object', properties: {}, additionalProperties: false }), 'Record<string, never>')
  t.equal(tsType({ type: 'object', properties: { 'a-b': { type: 'string', description: 'x */ y' } } }), '{\n  /** x *\\/ y */\n  "a-b"?: string\n}')
  t.equal(tsType({ properties: { a: { type: 'string' } }, required: ['a'] }), '{\n  a: string\n}')
  t.equal(tsType({ not: {} }), 'unknown')
})

t.test('namespace type names', async (t) => {
  t.equal(namespaceTypeName('/'), 'Root')
  t.equal(namespaceTypeName('/orders'), 'Orders')
  t.equal(namespaceTypeName('/chat-v2'), 'ChatV2')
  t.equal(namespaceTypeName('/2fa'), 'N2fa')
})
