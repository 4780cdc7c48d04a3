/** A JSON Schema (as TypeBox writes it) as a TypeScript type expression, for the generated client definitions. */

type Json = Record<string, any>

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const propertyName = (name: string): string => IDENTIFIER.test(name) ? name : JSON.stringify(name)
const pad = (depth: number): string => '  '.repeat(depth)

/** The TypeScript type of `schema`, indented for `depth` (objects span lines). */
export function tsType (schema: Json | boolean | undefined, depth = 0): string {
  if (schema === undefined || schema === true) return 'unknown'
  if (schema === false) return 'never'
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(' | ') || 'never'
  if (Array.isArray(schema.anyOf)) return union(schema.anyOf, depth)
  if (Array.isArray(schema.oneOf)) return union(schema.oneOf, depth)
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s: Json) => wrap(tsType(s, depth))).join(' & ') || 'unknown'
  const type = schema.type
  if (Array.isArray(type)) return type.map((t: string) => tsType({ ...schema, type: t }, depth)).join(' | ')
  switch (type) {
    case 'string': return 'string'
    case 'number': case 'integer': return 'number'
    case 'boolean': return 'boolean'
    case 'null': return 'null'
    case 'undefined': case 'void': return 'undefined'
    case 'array': {
      if (Array.isArray(schema.prefixItems)) return `[${schema.prefixItems.map((s: Json) => tsType(s, depth)).join(', ')}]`
      return `Array<${tsType(schema.items, depth)}>`
    }
    case 'object': return objectType(schema, depth)
    default: return schema.properties !== undefined ? objectType(schema, depth) : 'unknown'
  }
}

const wrap = (type: string): string => type.includes(' | ') ? `(${type})` : type

function union (schemas: Json[], depth: number): string {
  const members = [...new Set(schemas.map((s) => tsType(s, depth)))]
  return members.length === 0 ? 'never' : members.join(' | ')
}

function objectType (schema: Json, depth: number): string {
  const required = new Set<string>(schema.required ?? [])
  const lines: string[] = []
  for (const [name, property] of Object.entries<Json>(schema.properties ?? {})) {
    const doc = typeof property.description === 'string' ? `${pad(depth + 1)}/** ${property.description.replace(/\*\//g, '*\\/')} */\n` : ''
    lines.push(`${doc}${pad(depth + 1)}${propertyName(name)}${required.has(name) ? '' : '?'}: ${tsType(property, depth + 1)}`)
  }
  const extra = schema.patternProperties !== undefined
    ? Object.values<Json>(schema.patternProperties)[0]
    : typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined
  if (extra !== undefined) lines.push(`${pad(depth + 1)}[key: string]: ${tsType(extra, depth + 1)}`)
  else if (schema.additionalProperties !== false && lines.length === 0) return 'Record<string, unknown>'
  return lines.length === 0 ? 'Record<string, never>' : `{\n${lines.join('\n')}\n${pad(depth)}}`
}
