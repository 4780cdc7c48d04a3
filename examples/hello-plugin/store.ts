/** Where the hello plugin keeps state: greetings counted per tenant, shared by every node through the core store. */
import type { SharedStore } from 'realtime-server'

export class GreetingCounter {
  constructor (private readonly store: SharedStore) {}

  /** Counts one more greeting of the tenant and returns the count. */
  async add (tenantId: string): Promise<number> {
    return await this.store.increment(`greetings:${tenantId}`)
  }
}
