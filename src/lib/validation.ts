// Payload validation with TypeBox: compiled checks, problems named by field, defaults applied.
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { ValidationFailed, type RealtimeError } from './errors.js'

/** A problem found in a value: the field it concerns (dot path, empty for the value itself) and why. */
export interface Problem {
  readonly field: string
  readonly message: string
}

/** A compiled TypeBox schema: a fast check, and a readable explanation when it fails. */
export interface Validator<T> {
  readonly schema: TSchema
  check (value: unknown): value is T
  /** The most specific problems first; empty when the value is valid. */
  problems (value: unknown): Problem[]
  /** Throws `RT_ERR_VALIDATION` naming the field when the value is invalid. */
  assert (value: unknown): asserts value is T
}

interface RawError {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
  message: string
}

const toField = (pointer: string): string =>
  pointer === '' ? '' : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')

const join = (field: string, key: string): string => (field === '' ? key : `${field}.${key}`)

/**
 * Turns TypeBox's (Ajv-shaped) errors into problems a person can act on: `required` and
 * `additionalProperties` name the property itself, enum and literal unions list the allowed values,
 * and the deepest problem comes first (for unions, the branch that got furthest).
 */
export function explain (errors: Iterable<RawError>): Problem[] {
  const consts = new Map<string, unknown[]>()
  const problems: Array<Problem & { depth: number }> = []
  for (const e of errors) {
    const field = toField(e.instancePath)
    switch (e.keyword) {
      case 'required':
        for (const name of (e.params.requiredProperties as string[] | undefined) ?? []) {
          const f = join(field, name)
          problems.push({ field: f, message: 'is required', depth: f.split('.').length })
        }
        break
      case 'additionalProperties':
        for (const name of (e.params.additionalProperties as string[] | undefined) ?? []) {
          const f = join(field, name)
          problems.push({ field: f, message: 'is not an allowed property', depth: f.split('.').length })
        }
        break
      case 'boolean':
      case 'anyOf':
        break // summaries of problems reported on their own
      case 'const': {
        const list = consts.get(field) ?? []
        list.push(e.params.allowedValue)
        consts.set(field, list)
        break
      }
      case 'enum':
        problems.push({ field, message: `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`, depth: depthOf(field) })
        break
      default:
        problems.push({ field, message: e.message, depth: depthOf(field) })
    }
  }
  for (const [field, values] of consts) {
    const message = values.length === 1 ? `must be ${JSON.stringify(values[0])}` : `must be one of: ${values.map(String).join(', ')}`
    problems.push({ field, message, depth: depthOf(field) })
  }
  if (problems.length === 0) return []
  problems.sort((a, b) => b.depth - a.depth)
  return problems.map(({ field, message }) => ({ field, message }))
}

const depthOf = (field: string): number => (field === '' ? 0 : field.split('.').length)

/** `field: message`, or the message alone for the value itself. */
export function formatProblem (p: Problem, root = 'payload'): string {
  return `${p.field === '' ? root : p.field}: ${p.message}`
}

/**
 * The `RT_ERR_VALIDATION` error for a problem, with `field` set. A problem with the value itself (a socket
 * payload that is a bare string, a body that is not an object) names the value: `root`, `payload` by default.
 *
 * @example
 * if (!check.check(message)) throw validationError(check.problems(message)[0]!, 'message')
 */
export function validationError (p: Problem, root = 'payload'): RealtimeError {
  const err: RealtimeError = new ValidationFailed(formatProblem(p, root))
  err.field = p.field === '' ? root : p.field
  return err
}

/**
 * Compiles a TypeBox schema once; `check` is the hot path (generated code, no allocation on success).
 *
 * @example
 * const v = compile(Type.Object({ channelId: Type.String() }))
 * if (!v.check(data)) throw validationError(v.problems(data)[0])
 */
export function compile<S extends TSchema> (schema: S): Validator<Static<S>> {
  const compiled = Compile(schema)
  const problems = (value: unknown): Problem[] => explain(compiled.Errors(value) as Iterable<RawError>)
  return {
    schema,
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    problems,
    assert (value: unknown): asserts value is Static<S> {
      if (!compiled.Check(value)) throw validationError(problems(value)[0] ?? { field: '', message: 'is invalid' })
    }
  }
}

/**
 * Applies a schema's defaults, like TypeBox's `Value.Default`, and also inside record values
 * (`patternProperties`), which `Value.Default` leaves alone: an access policy in a record keyed by room
 * kind gets its `timeoutMs` default like any other.
 */
export function withDefaults (schema: TSchema, value: unknown): unknown {
  const filled = Value.Default(schema, value)
  descend(schema as Record<string, any>, filled)
  return filled
}

function descend (schema: Record<string, any>, value: unknown): void {
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    if (schema.items !== undefined && typeof schema.items === 'object') for (const v of value) descend(schema.items, v)
    return
  }
  const obj = value as Record<string, unknown>
  const props = schema.properties as Record<string, Record<string, any>> | undefined
  if (props !== undefined) for (const [k, s] of Object.entries(props)) if (k in obj) descend(s, obj[k])
  const patterns = schema.patternProperties as Record<string, Record<string, any>> | undefined
  if (patterns !== undefined) {
    for (const [pattern, s] of Object.entries(patterns)) {
      const re = new RegExp(pattern)
      for (const k of Object.keys(obj)) {
        if (props?.[k] === undefined && re.test(k)) {
          obj[k] = Value.Default(s as TSchema, obj[k])
          descend(s, obj[k])
        }
      }
    }
  }
  for (const branch of (schema.anyOf ?? []) as Array<Record<string, any>>) {
    if (Value.Check(branch as TSchema, obj)) { descend(branch, obj); break }
  }
}
