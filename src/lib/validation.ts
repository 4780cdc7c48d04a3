// Payload validation with TypeBox: compiled checks, problems named by field, defaults applied.
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Settings } from 'typebox/system'
import { Value } from 'typebox/value'
import { ValidationFailed, type RealtimeError } from './errors.js'
import { isWellFormed, WELL_FORMED } from './ids.js'

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
  schemaPath: string
  params: Record<string, unknown>
  message: string
}

/** Why a string with a lone UTF-16 surrogate is refused. */
const ILL_FORMED = 'must be well-formed Unicode (it has a lone surrogate)'

const toField = (pointer: string): string =>
  pointer === '' ? '' : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')

const join = (field: string, key: string): string => (field === '' ? key : `${field}.${key}`)

/**
 * Turns TypeBox's (Ajv-shaped) errors into problems a person can act on: `required` and
 * `additionalProperties` name the property itself, enum and literal unions list the allowed values,
 * and the deepest problem comes first (for unions, the branch that got furthest).
 */
export function explain (raw: Iterable<RawError>): Problem[] {
  const errors = discriminate([...raw])
  const consts = new Map<string, unknown[]>()
  // The first type problem of a field keeps its place; its message lists every type the field's branches allow.
  const types = new Map<string, { problem: { field: string, message: string, depth: number }, list: string[] }>()
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
      case 'type': {
        // The branches of a union each report their type: said once, as "must be string or number".
        const known = types.get(field)
        if (known !== undefined) {
          known.list.push(String(e.params.type))
        } else {
          const problem = { field, message: e.message, depth: depthOf(field) }
          problems.push(problem)
          types.set(field, { problem, list: [String(e.params.type)] })
        }
        break
      }
      case 'format':
        problems.push({ field, message: e.params.format === WELL_FORMED ? ILL_FORMED : e.message, depth: depthOf(field) })
        break
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
  for (const { problem, list } of types.values()) {
    if (list.length === 1) continue
    // `undefined` is the branch of a payload that may be left out: a client that sent something else needs the other type.
    problem.message = `must be ${[...new Set(list.filter((type) => type !== 'undefined'))].join(' or ')}`
  }
  if (problems.length === 0) return []
  problems.sort((a, b) => b.depth - a.depth)
  const seen = new Set<string>()
  const out: Problem[] = []
  for (const { field, message } of problems) {
    const key = `${field}\0${message}`
    if (!seen.has(key)) { seen.add(key); out.push({ field, message }) }
  }
  return out
}

/**
 * A union of objects told apart by one key (`mode: 'claim' | 'roles' | ...`, each branch a literal) is explained by
 * that key: the errors of the branches whose literal the value has, or, when it has none of them, the key alone
 * ("access.mode: must be one of: tenant, claim, roles, hook"), rather than every branch's missing keys.
 * Unions are taken outermost first; errors outside unions are kept.
 */
function discriminate (errors: RawError[]): RawError[] {
  // Each union: the schema path before an `/anyOf/<n>/` of an error's schema path, outermost first.
  const unions = [...new Set(errors.flatMap((e) => [...e.schemaPath.matchAll(/\/anyOf\/\d+(?=\/|$)/g)].map((m) => e.schemaPath.slice(0, m.index))))]
    .sort((a, b) => a.length - b.length)
  let kept = errors
  for (const union of unions) {
    const prefix = `${union}/anyOf/`
    const branchOf = (e: RawError): number | undefined => {
      if (!e.schemaPath.startsWith(prefix)) return undefined
      const n = /^(\d+)/.exec(e.schemaPath.slice(prefix.length))
      return n === null ? undefined : Number(n[1])
    }
    const inUnion = kept.filter((e) => branchOf(e) !== undefined)
    const branches = new Set(inUnion.map((e) => branchOf(e)!))
    if (branches.size < 2) continue
    // The discriminator: a property of the value on which a branch reports a `const` mismatch at the branch's own level.
    const discriminator = inUnion.find((e) => e.keyword === 'const' && /^\d+\/properties\/[^/]+$/.test(e.schemaPath.slice(prefix.length)))
    if (discriminator === undefined) {
      // No branch's key given at all: a key every branch requires and the value lacks is the one thing to say.
      const missing = (b: number): RawError[] => inUnion.filter((e) => branchOf(e) === b && e.keyword === 'required' && /^\d+$/.test(e.schemaPath.slice(prefix.length)))
      const lists = [...branches].map((b) => missing(b))
      const common = (lists[0]?.flatMap((e) => (e.params.requiredProperties as string[] | undefined) ?? []) ?? [])
        .filter((k) => lists.every((l) => l.some((e) => ((e.params.requiredProperties as string[] | undefined) ?? []).includes(k))))
      if (common.length === 0) continue
      const required: RawError = { keyword: 'required', instancePath: lists[0]![0]!.instancePath, schemaPath: union, params: { requiredProperties: common }, message: 'is required' }
      kept = [...kept.filter((e) => branchOf(e) === undefined), required]
      continue
    }
    const key = discriminator.instancePath
    const mismatched = new Set(inUnion.filter((e) => e.keyword === 'const' && e.instancePath === key &&
      /^\d+\/properties\/[^/]+$/.test(e.schemaPath.slice(prefix.length))).map((e) => branchOf(e)!))
    const matched = [...branches].filter((b) => !mismatched.has(b))
    kept = matched.length > 0
      ? kept.filter((e) => { const b = branchOf(e); return b === undefined || matched.includes(b) })
      : kept.filter((e) => branchOf(e) === undefined || (e.keyword === 'const' && e.instancePath === key))
  }
  return kept
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

/** How deep a value may nest (objects and arrays): deeper input is refused rather than walked. */
export const MAX_DEPTH = 64

/**
 * True when every string and property name in a value is well-formed UTF-16 (no lone surrogate, which
 * `encodeURIComponent` throws on and Redis's cjson cannot read back) and it nests at most `MAX_DEPTH` levels.
 * Allocates nothing.
 */
function sound (value: unknown, depth: number): boolean {
  if (typeof value === 'string') return isWellFormed(value)
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!sound(value[i], depth + 1)) return false
    return true
  }
  for (const key in value) {
    if (!isWellFormed(key) || !sound((value as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}

/** Where `sound` fails: the path (property names and indexes) and why; undefined when the value is sound. */
function unsoundAt (value: unknown, path: string[]): { path: string[], message: string } | undefined {
  if (typeof value === 'string') return isWellFormed(value) ? undefined : { path, message: ILL_FORMED }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined
  if (path.length >= MAX_DEPTH) return { path, message: `is nested too deeply (more than ${MAX_DEPTH} levels)` }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
  for (const [key, v] of entries) {
    // A property name cannot be named by its own (ill-formed) path: the object holding it is.
    if (!isWellFormed(key)) return { path, message: 'has a property name that is not well-formed Unicode (a lone surrogate)' }
    const found = unsoundAt(v, [...path, key])
    if (found !== undefined) return found
  }
  return undefined
}

/** The problem of a value whose strings are not all well-formed or that nests too deeply; undefined when sound. */
export function unicodeProblem (value: unknown): Problem | undefined {
  if (sound(value, 0)) return undefined
  const found = unsoundAt(value, [])
  return found === undefined ? undefined : { field: found.path.join('.'), message: found.message }
}

/**
 * Compiles a TypeBox schema once; `check` is the hot path (generated code, no allocation on success).
 * `maxErrors`: how many errors `problems` gathers (TypeBox's default, 8, for untrusted input).
 *
 * @example
 * const v = compile(Type.Object({ channelId: Type.String() }))
 * if (!v.check(data)) throw validationError(v.problems(data)[0])
 */
export function compile<S extends TSchema> (schema: S, options: { maxErrors?: number } = {}): Validator<Static<S>> {
  const compiled = Compile(schema)
  const errorsOf = (value: unknown): Iterable<RawError> => {
    if (options.maxErrors === undefined) return compiled.Errors(value) as Iterable<RawError>
    // TypeBox keeps 8 errors by default (a guard for untrusted payloads); a config is the operator's own, and a
    // union is explained well only when every branch has reported.
    const before = Settings.Get().maxErrors
    Settings.Set({ maxErrors: options.maxErrors })
    try {
      return compiled.Errors(value) as Iterable<RawError>
    } finally {
      Settings.Set({ maxErrors: before })
    }
  }
  // Past the schema, every string and key of the value must be well-formed (an `Unknown` field included): no
  // lone surrogate reaches a key, a room name or a Lua script.
  const problems = (value: unknown): Problem[] => {
    const found = explain(errorsOf(value))
    if (found.length > 0) return found
    const unsound = unicodeProblem(value)
    return unsound === undefined ? [] : [unsound]
  }
  return {
    schema,
    check: (value: unknown): value is Static<S> => compiled.Check(value) && sound(value, 0),
    problems,
    assert (value: unknown): asserts value is Static<S> {
      if (!compiled.Check(value) || !sound(value, 0)) throw validationError(problems(value)[0] ?? { field: '', message: 'is invalid' })
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

const toPointer = (field: string): string =>
  field === '' ? '' : '/' + field.split('.').map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

/**
 * Fastify's validator compiler for TypeBox route schemas (as `@fastify/type-provider-typebox`'s: querystring,
 * params and headers converted to their types), which also refuses what `compile` refuses past the schema:
 * strings and property names that are not well-formed, values nested too deeply. Errors are Ajv-shaped, for
 * the `schemaErrorFormatter`.
 */
export function routeValidatorCompiler ({ schema, httpPart }: { schema: TSchema, httpPart?: string }) {
  const compiled = Compile(schema)
  return (value: unknown): { value: unknown } | { error: RawError[] } => {
    const converted = httpPart === 'body' ? value : Value.Convert(schema, value)
    if (!compiled.Check(converted)) return { error: [...compiled.Errors(converted) as Iterable<RawError>] }
    if (sound(converted, 0)) return { value: converted }
    const p = unicodeProblem(converted)!
    return { error: [{ keyword: 'wellFormed', instancePath: toPointer(p.field), schemaPath: '#', params: {}, message: p.message }] }
  }
}
