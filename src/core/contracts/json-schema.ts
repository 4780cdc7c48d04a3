/** A TypeBox schema as plain JSON Schema for the documents: a copy without `$id` (the documents place schemas themselves), TypeBox's own keys, or its non-JSON types. */
import type { TSchema } from 'typebox'

type Json = Record<string, unknown>

function clean (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean)
  if (value === null || typeof value !== 'object') return value
  // TypeBox's `Undefined`/`Void` (an argument left out) has no JSON Schema type: documented as null, its JSON form.
  if ((value as Json).type === 'undefined' || (value as Json).type === 'void') return { type: 'null', description: 'May be left out.' }
  const out: Json = {}
  for (const [key, v] of Object.entries(value)) {
    if (key === '$id' || key.startsWith('~')) continue
    out[key] = clean(v)
  }
  return out
}

/** The schema as a JSON value, safe to embed anywhere in a document. */
export const plainSchema = (schema: TSchema): Json => clean(JSON.parse(JSON.stringify(schema))) as Json
