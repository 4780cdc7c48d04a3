/**
 * Development-mode emit validation (contracts.validateEmits): every server event a plugin publishes or emits to a
 * socket is checked against the catalogs of the namespace it goes to. An undeclared event or a payload that fails
 * its schema throws RT_ERR_CONTRACT naming the plugin, the event and the field, and is logged. Only installed when
 * enabled (a field the publisher and the dispatcher test once), so production pays nothing else.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { TSchema } from 'typebox'
import type { ServerConfig } from '../../config/schema.js'
import { ContractBroken } from '../../lib/errors.js'
import { Compile } from 'typebox/compile'
import { explain, formatProblem, type Problem } from '../../lib/validation.js'
import type { Core } from '../core.js'
import { serverEvent } from '../plugins/catalog.js'
import type { PublishInput } from '../publish.js'
import { coreCatalog } from './core-events.js'
import { contractsOf, type PluginContract } from './registry.js'

/** The catalog key that declares every other event of a namespace. */
export const ANY_EVENT = '*'

/** A payload check: the schema alone (not the well-formedness of every string that incoming payloads get: a plugin may echo what it refused). */
interface Check {
  check (value: unknown): boolean
  problems (value: unknown): Problem[]
}

function schemaCheck (schema: TSchema): Check {
  const compiled = Compile(schema)
  return { check: (value) => compiled.Check(value), problems: (value) => explain(compiled.Errors(value) as Parameters<typeof explain>[0]) }
}

interface Declared {
  readonly plugin: string
  readonly validator: Check
}

/** The checks of one app: per namespace, per event, who declared it and with which payload schema. */
export interface EmitValidator {
  /** Checks a publish (`plugin` undefined for `ctx.publish`). */
  publish (input: PublishInput, plugin?: string): void
  /** Checks an emit to one socket of `namespace`. */
  emit (namespace: string, event: string, payload: unknown): void
}

/** Whether emits are validated: `contracts.validateEmits`, else on unless in production. */
export const validatesEmits = (config: Readonly<ServerConfig>, production: boolean): boolean => config.contracts.validateEmits ?? !production

/** Builds the checks from the plugins' catalogs (and the core's own events on every namespace). */
export function emitValidator (contracts: readonly PluginContract[], log: FastifyBaseLogger): EmitValidator {
  const byNamespace = new Map<string, Map<string, Declared[]>>()
  const compiled = new Map<TSchema, Check>()
  const declare = (namespace: string, event: string, plugin: string, schema: TSchema): void => {
    let events = byNamespace.get(namespace)
    if (events === undefined) byNamespace.set(namespace, events = new Map())
    let list = events.get(event)
    if (list === undefined) events.set(event, list = [])
    let validator = compiled.get(schema)
    if (validator === undefined) compiled.set(schema, validator = schemaCheck(schema))
    list.push({ plugin, validator })
  }
  const namespaces = [...new Set(contracts.flatMap((c) => c.namespaces))]
  for (const c of contracts) {
    for (const [event, value] of Object.entries(c.catalog.server ?? {})) {
      const entry = serverEvent(value)
      for (const ns of entry.namespaces ?? c.namespaces) declare(ns, event, c.plugin, entry.payload)
    }
  }
  for (const [event, value] of Object.entries(coreCatalog.server ?? {})) {
    for (const ns of namespaces) declare(ns, event, 'core', serverEvent(value).payload)
  }

  const fail = (message: string, details: Record<string, unknown>): never => {
    const err = new ContractBroken(message)
    log.error({ err, ...details }, `contract broken: ${message}`)
    throw err
  }
  const check = (namespace: string, event: string, payload: unknown, by: string): void => {
    const events = byNamespace.get(namespace)
    const declared = events?.get(event) ?? events?.get(ANY_EVENT)
    if (declared === undefined) {
      fail(`${by} emitted "${event}" on ${namespace}, which no events catalog of that namespace declares`, { plugin: by, event, namespace })
      return
    }
    let first: Problem | undefined
    for (const d of declared) {
      if (d.validator.check(payload)) return
      first ??= d.validator.problems(payload)[0]
    }
    const problem = first === undefined ? 'is invalid' : formatProblem(first)
    fail(`${by} emitted "${event}" on ${namespace} with a payload that fails the schema of ${declared.map((d) => d.plugin).join(', ')}: ${problem}`,
      { plugin: by, event, namespace, field: first?.field })
  }
  return {
    publish: (input, plugin) => { check(input.namespace ?? '/', input.event, input.payload, plugin === undefined ? 'a socket handler (ctx.publish)' : `plugin "${plugin}"`) },
    emit: (namespace, event, payload) => { check(namespace, event, payload, 'a socket handler (ctx.emit)') }
  }
}

/** Installs the checks on the publisher and the socket contexts once every plugin set up (their catalogs are known). */
export function installEmitValidation (core: Core): void {
  const validator = emitValidator(contractsOf(core), core.log)
  core.publisher.checkEmit = validator.publish
  core.dispatch.emitCheck = validator.emit
}
