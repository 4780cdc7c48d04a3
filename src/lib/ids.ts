/** Schemas of the ids every edge accepts (tenants, sessions, rooms, ...), shared by the core and the plugins, and the `well-formed` string format they use. */
import { Type, type TString, type TStringOptions } from 'typebox'
import Format from 'typebox/format'

/**
 * The string format of every id: well-formed UTF-16 (no lone surrogate such as `"a\ud800b"`), so that an id can
 * be percent-encoded into a key or a room name, written to Redis and read back by Lua's cjson.
 */
export const WELL_FORMED = 'well-formed'

/** True when a string has no lone UTF-16 surrogate (`String.prototype.isWellFormed`, ES2024, Node 20). */
export const isWellFormed = (value: string): boolean => (value as string & { isWellFormed (): boolean }).isWellFormed()

// Registered on import: TypeBox resolves a format when a schema is compiled (an unknown format passes), and
// this module is imported by src/lib/validation.ts, which every compile goes through.
Format.Set(WELL_FORMED, isWellFormed)

/** An id's options: `minLength` 1 and `maxLength` 200 unless given; any other string option (`pattern`, ...). */
export type IdOptions = Omit<TStringOptions, 'format' | 'description'>

/**
 * The schema of an id a client or a caller sends: a non-empty, well-formed string, at most 200 characters by default.
 *
 * @example
 * const Join = Type.Object({ sessionId: Id('The chatbot session.') })
 * const TempId = Id('Client-side id.', { maxLength: 128 })
 */
export const Id = (description: string, options: IdOptions = {}): TString =>
  Type.String({ minLength: 1, maxLength: 200, ...options, format: WELL_FORMED, description })

/** A tenant id as requests and payloads name it. */
export const TenantId = Id('The tenant to act on.')
