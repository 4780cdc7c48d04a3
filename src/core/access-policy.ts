// The shared access policy: who may join a room of some kind (tenant, claim, roles or a backend hook).
import { LruMap } from 'toad-cache'
import { Type, type Static } from 'typebox'
import type { Identity } from './auth/tokens.js'
import { claimAt } from './auth/credentials.js'

/**
 * Who may join a room of some kind (subscribe to a campaign, join a channel, watch a session).
 * One schema for every plugin, so operators configure access the same way everywhere.
 */
export const AccessPolicyOptions = Type.Union([
  Type.Object({
    mode: Type.Literal('tenant', { description: 'Any id within the user\'s own tenant.' })
  }, { additionalProperties: false }),
  Type.Object({
    mode: Type.Literal('claim', { description: 'Ids listed in a JWT claim (an array of ids or one id; `*` allows all).' }),
    claim: Type.String({ minLength: 1, description: 'Claim name (a dot path for nested claims).' })
  }, { additionalProperties: false }),
  Type.Object({
    mode: Type.Literal('roles', { description: 'Any id, for users having one of the roles.' }),
    roles: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })
  }, { additionalProperties: false }),
  Type.Object({
    mode: Type.Literal('hook', { description: 'Ask a backend: POST { userId, tenantId, roles, kind, id }; a 2xx answer allows, and a JSON body `{ "data": ... }` in it reaches the client with its subscription. Down, slow or other answers refuse.' }),
    url: Type.String({ pattern: '^https?://' }),
    timeoutMs: Type.Integer({ minimum: 1, default: 2000, description: 'A hook slower than this refuses.' }),
    cacheTtlMs: Type.Integer({ minimum: 0, default: 30000, description: 'How long an answer is reused for the same user, kind and id (0: never). Identical lookups in flight share one request either way.' }),
    cacheSize: Type.Integer({ minimum: 1, default: 10000, description: 'Answers kept; the least recently used goes first.' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra headers, e.g. a shared secret for the backend.' }))
  }, { additionalProperties: false })
], { description: 'Access policy: tenant | claim | roles | hook.' })

export type AccessPolicyOptions = Static<typeof AccessPolicyOptions>

/**
 * The access hook's `data`, in the answer to a join (an optional field of its ack): e.g. the room's initial
 * state, as the backend decided it for this user. Absent when the policy is not a hook or the hook gave none.
 */
export const AccessData = Type.Optional(Type.Unknown({ description: 'What the access hook answered with its allow (`{ "data": ... }`), for this user and room; absent when it gave none.' }))

export interface AccessDecision {
  allowed: boolean
  /** Why access was refused, for the client's error message. */
  reason?: string
  /** What the access hook gave with its answer (`{ "data": ... }`), for the client with its subscription. */
  data?: unknown
}

export interface AccessPolicy {
  check (user: Identity, kind: string, id: string): Promise<AccessDecision>
}

/**
 * Builds the policy; hook answers are cached (allow and refuse alike), errors are not.
 *
 * @example
 * const policy = createAccessPolicy({ mode: 'claim', claim: 'channels' })
 * const { allowed, reason } = await policy.check(ctx.user, 'channel', channelId)
 */
export function createAccessPolicy (options: AccessPolicyOptions, log?: { warn: (o: object, m: string) => void }): AccessPolicy {
  switch (options.mode) {
    case 'tenant':
      return { check: async () => ({ allowed: true }) }
    case 'claim':
      return {
        async check (user, _kind, id) {
          const v = claimAt(user.claims, options.claim)
          const ids = Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)]
          return ids.includes(id) || ids.includes('*') ? { allowed: true } : { allowed: false, reason: `not listed in the token's ${options.claim} claim` }
        }
      }
    case 'roles':
      return {
        async check (user) {
          return user.roles.some((r) => options.roles.includes(r)) ? { allowed: true } : { allowed: false, reason: `requires one of the roles ${options.roles.join(', ')}` }
        }
      }
    case 'hook':
      return hookPolicy(options, log)
  }
}

/** The largest answer body the access hook may send (its `data`); a larger one refuses. */
const MAX_HOOK_BODY = 64 * 1024

const REFUSED: AccessDecision = Object.freeze({ allowed: false, reason: 'refused by the access hook' })
const UNAVAILABLE: AccessDecision = Object.freeze({ allowed: false, reason: 'the access hook is unavailable' })
const ALLOWED: AccessDecision = Object.freeze({ allowed: true })

type Log = { warn: (o: object, m: string) => void } | undefined

/**
 * A backend decides. Answers (allow and refuse alike, with their data) are kept in an LRU for `cacheTtlMs`;
 * identical lookups in flight share one request (a hundred sockets joining one room ask once); errors and
 * time-outs are not kept, so the next lookup asks again.
 */
function hookPolicy (options: Extract<AccessPolicyOptions, { mode: 'hook' }>, log: Log): AccessPolicy {
  const cache = options.cacheTtlMs === 0 ? undefined : new LruMap<AccessDecision>(options.cacheSize, options.cacheTtlMs)
  const inFlight = new Map<string, Promise<AccessDecision>>()
  const ask = async (key: string, user: Identity, kind: string, id: string): Promise<AccessDecision> => {
    let decision: AccessDecision
    try {
      decision = await askHook(options, user, kind, id)
    } catch (err) {
      log?.warn({ url: options.url, err: (err as Error).message }, 'access hook unavailable, refusing')
      return UNAVAILABLE
    } finally {
      inFlight.delete(key)
    }
    cache?.set(key, decision)
    return decision
  }
  return {
    async check (user, kind, id) {
      const key = JSON.stringify([user.tenantId, user.userId, kind, id])
      const hit = cache?.get(key)
      if (hit !== undefined) return hit
      let pending = inFlight.get(key)
      if (pending === undefined) {
        pending = ask(key, user, kind, id)
        inFlight.set(key, pending)
      }
      return await pending
    }
  }
}

/** One request to the hook: a 2xx allows (with the `data` of a JSON object body), anything else refuses; throws when it cannot answer. */
async function askHook (options: Extract<AccessPolicyOptions, { mode: 'hook' }>, user: Identity, kind: string, id: string): Promise<AccessDecision> {
  const res = await fetch(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    body: JSON.stringify({ userId: user.userId, tenantId: user.tenantId, roles: user.roles, kind, id }),
    signal: AbortSignal.timeout(options.timeoutMs)
  })
  if (res.status < 200 || res.status >= 300) {
    await res.body?.cancel()
    return REFUSED
  }
  if (!(res.headers.get('content-type') ?? '').includes('json')) {
    await res.body?.cancel()
    return ALLOWED
  }
  const text = await readAtMost(res, MAX_HOOK_BODY)
  if (text.trim() === '') return ALLOWED
  const body: unknown = JSON.parse(text)
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.hasOwn(body, 'data')) {
    return Object.freeze({ allowed: true, data: (body as { data: unknown }).data })
  }
  return ALLOWED
}

/** The body as text; throws (and stops reading) past `max` bytes. */
async function readAtMost (res: Response, max: number): Promise<string> {
  if (res.body === null) return ''
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body.cancel()
    throw new Error(`an answer of more than ${max} bytes`)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += chunk.byteLength
    if (size > max) throw new Error(`an answer of more than ${max} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
