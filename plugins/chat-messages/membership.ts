/**
 * Who is a member of which channel. Joining asks the configured access policy (the core's: tenant,
 * claim, roles or hook) and records the membership in the plugin's shared store (Redis when
 * configured), per tenant and user. A member is a user whose membership is recorded, or who is listed
 * by id in the policy's claim, and whom the policy still allows (a revoked user stops being one).
 */
import { claimAt, type AccessPolicy, type AccessPolicyOptions, type Identity, type SharedStore } from 'realtime-server'
import { JoinRefused, NotMember } from './errors.js'

const KIND = 'channel'
const e = encodeURIComponent

export class ChannelMembership {
  readonly #store: SharedStore
  readonly #policy: AccessPolicy
  readonly #claim: string | undefined

  constructor (store: SharedStore, policy: AccessPolicy, access: AccessPolicyOptions) {
    this.#store = store
    this.#policy = policy
    this.#claim = access.mode === 'claim' ? access.claim : undefined
  }

  #key (user: Identity): string { return `channels:${e(user.tenantId)}:${e(user.userId)}` }

  /** Channel ids listed in the token's claim (claim mode; `*` lists none). */
  #listed (user: Identity): string[] {
    if (this.#claim === undefined) return []
    const v = claimAt(user.claims, this.#claim)
    const ids = Array.isArray(v) ? v.map(String) : typeof v === 'string' || typeof v === 'number' ? [String(v)] : []
    return ids.filter((id) => id !== '*' && id.length > 0)
  }

  /** Records the membership when the policy allows; RT_CHAT_JOIN_REFUSED otherwise. */
  async join (user: Identity, channelId: string): Promise<void> {
    const decision = await this.#policy.check(user, KIND, channelId)
    if (!decision.allowed) throw new JoinRefused(channelId, decision.reason ?? 'refused by the access policy')
    await this.#store.setAdd(this.#key(user), channelId)
  }

  /** Forgets the membership; false when there was none. */
  async leave (user: Identity, channelId: string): Promise<boolean> {
    return await this.#store.setRemove(this.#key(user), channelId)
  }

  /** Resolves when the user is a member of the channel; RT_CHAT_NOT_MEMBER otherwise. */
  async check (user: Identity, channelId: string): Promise<void> {
    const recorded = this.#listed(user).includes(channelId) || await this.#store.setHas(this.#key(user), channelId)
    if (!recorded || !(await this.#policy.check(user, KIND, channelId)).allowed) throw new NotMember(channelId)
  }

  /** The channels the user may use now: recorded or listed, and still allowed; sorted. */
  async channelsOf (user: Identity): Promise<string[]> {
    const ids = [...new Set([...this.#listed(user), ...await this.#store.setMembers(this.#key(user))])].sort()
    const allowed = await Promise.all(ids.map(async (id) => (await this.#policy.check(user, KIND, id)).allowed))
    return ids.filter((_, i) => allowed[i])
  }
}
