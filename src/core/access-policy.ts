// The shared access policy: who may join a room of some kind (tenant, claim, roles or a backend hook).
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
    mode: Type.Literal('hook', { description: 'Ask a backend: POST { userId, tenantId, roles, kind, id }; a 2xx answer allows. Down, slow or other answers refuse.' }),
    url: Type.String({ pattern: '^https?://' }),
    timeoutMs: Type.Integer({ minimum: 1, default: 2000, description: 'A hook slower than this refuses.' }),
    cacheTtlMs: Type.Integer({ minimum: 0, default: 30000, description: 'How long an answer is reused for the same user, kind and id (0: never).' }),
    cacheSize: Type.Integer({ minimum: 1, default: 10000 }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra headers, e.g. a shared secret for the backend.' }))
  }, { additionalProperties: false })
], { description: 'Access policy: tenant | claim | roles | hook.' })

export type AccessPolicyOptions = Static<typeof AccessPolicyOptions>

export interface AccessDecision {
  allowed: boolean
  /** Why access was refused, for the client's error message. */
  reason?: string
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

function hookPolicy (options: Extract<AccessPolicyOptions, { mode: 'hook' }>, log?: { warn: (o: object, m: string) => void }): AccessPolicy {
  const cache = new Map<string, { allowed: boolean, until: number }>()
  const remember = (key: string, allowed: boolean): void => {
    if (options.cacheTtlMs === 0) return
    if (cache.size >= options.cacheSize) cache.delete(cache.keys().next().value!)
    cache.set(key, { allowed, until: Date.now() + options.cacheTtlMs })
  }
  return {
    async check (user, kind, id) {
      const key = JSON.stringify([user.tenantId, user.userId, kind, id])
      const hit = cache.get(key)
      if (hit !== undefined && hit.until > Date.now()) return hit.allowed ? { allowed: true } : { allowed: false, reason: 'refused by the access hook' }
      let res: Response
      try {
        res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
          body: JSON.stringify({ userId: user.userId, tenantId: user.tenantId, roles: user.roles, kind, id }),
          signal: AbortSignal.timeout(options.timeoutMs)
        })
        await res.body?.cancel()
      } catch (err) {
        log?.warn({ url: options.url, err: (err as Error).message }, 'access hook unavailable, refusing')
        return { allowed: false, reason: 'the access hook is unavailable' }
      }
      const allowed = res.status >= 200 && res.status < 300
      remember(key, allowed)
      return allowed ? { allowed: true } : { allowed: false, reason: 'refused by the access hook' }
    }
  }
}
