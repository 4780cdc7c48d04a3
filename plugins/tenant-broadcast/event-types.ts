/**
 * The event types a deployment accepts: the selected catalogs plus the custom events of its options,
 * each with a compiled payload validator. `validate` is on every publish's hot path: one map lookup and
 * one generated check, allocating nothing for a valid payload.
 */
import { validationError, type RealtimeApi, type RealtimeError, type TSchema, type Validator } from 'realtime-server'
import { catalogs } from './catalogs/index.js'
import { OptionsInvalid, UnknownEvent } from './errors.js'
import { EVENT_NAME, type TenantBroadcastOptions } from './schema.js'

/** Names a custom event may not take: Socket.IO's reserved events and the plugin's own. */
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener', 'error', 'pong', 'auth:expired'])

const NAME = new RegExp(EVENT_NAME)

/** One event type of the options, before it is checked. */
export interface SelectedEventType {
  readonly type: string
  /** The catalog name, or `custom`. */
  readonly catalog: string
  /** The payload schema (a custom event's carries its description). */
  readonly schema: TSchema
}

export interface EventType extends SelectedEventType {
  readonly validator: Validator<unknown>
}

/** The event types the options select, catalogs first then custom events, unchecked (see `EventTypes`). */
export function selectedEventTypes (options: Pick<TenantBroadcastOptions, 'catalogs' | 'customEvents'>): SelectedEventType[] {
  const selected: SelectedEventType[] = []
  for (const name of options.catalogs) {
    for (const [type, schema] of Object.entries(catalogs[name])) selected.push({ type, catalog: name, schema })
  }
  for (const [type, { schema, description }] of Object.entries(options.customEvents)) {
    selected.push({ type, catalog: 'custom', schema: description === undefined ? schema : { description, ...schema } })
  }
  return selected
}

const fieldError = (field: string, message: string): RealtimeError => validationError({ field, message })

export class EventTypes {
  readonly #types = new Map<string, EventType>()
  readonly #checkTenant: boolean

  constructor (options: TenantBroadcastOptions, compile: RealtimeApi['compile']) {
    this.#checkTenant = options.checkPayloadTenant
    for (const selected of selectedEventTypes(options)) {
      const { type, catalog, schema } = selected
      if (catalog !== 'custom') {
        this.#types.set(type, { ...selected, validator: compile(schema) })
        continue
      }
      const where = `customEvents.${type}`
      if (!NAME.test(type) || type.length > 100) throw new OptionsInvalid(`${where}: an event name has 1 to 100 letters, digits and _ . : - (starting with a letter or digit)`)
      if (RESERVED.has(type)) throw new OptionsInvalid(`${where}: "${type}" is a reserved event name`)
      const known = this.#types.get(type)
      if (known !== undefined) throw new OptionsInvalid(`${where}: "${type}" is already an event of the catalog ${known.catalog}`)
      let validator: Validator<unknown>
      try {
        validator = compile(schema)
      } catch (err) {
        throw new OptionsInvalid(`${where}.schema: not a usable JSON Schema (${err instanceof Error ? err.message : String(err)})`)
      }
      this.#types.set(type, { ...selected, validator })
    }
  }

  get size (): number { return this.#types.size }

  list (): IterableIterator<EventType> { return this.#types.values() }

  /**
   * Throws a 400 naming the field when `type` is unknown or `payload` does not match its schema, or when
   * the payload's tenantId is another tenant than the one it goes to. `at` prefixes field names (batch items).
   */
  validate (type: string, payload: unknown, tenantId: string, at = ''): void {
    const entry = this.#types.get(type)
    if (entry === undefined) {
      const err: RealtimeError = new UnknownEvent(JSON.stringify(type))
      err.field = `${at}type`
      throw err
    }
    if (!entry.validator.check(payload)) {
      const p = entry.validator.problems(payload)[0] ?? { field: '', message: 'is invalid' }
      throw fieldError(p.field === '' ? `${at}payload` : `${at}payload.${p.field}`, p.message)
    }
    if (this.#checkTenant && typeof payload === 'object' && payload !== null && 'tenantId' in payload) {
      const own = payload.tenantId
      if (typeof own === 'string' && own !== tenantId) throw fieldError(`${at}payload.tenantId`, `must be the tenant the event is published to (${tenantId})`)
    }
  }
}
