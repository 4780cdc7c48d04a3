// The tenant label, opt-in and capped: the first `max` tenants seen get a label of their own, the rest `other`.

export const OTHER_TENANT = 'other'

/** Maps tenant ids to label values, admitting at most `max` of them for the life of the process. */
export class TenantLabels {
  readonly #admitted = new Set<string>()
  constructor (readonly max: number) {}

  label (tenantId: string): string {
    if (this.#admitted.has(tenantId)) return tenantId
    if (this.#admitted.size >= this.max) return OTHER_TENANT
    this.#admitted.add(tenantId)
    return tenantId
  }
}
