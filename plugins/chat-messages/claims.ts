/** Reading a verified JWT claim by name or dot path (`chat.channels`), as the core's claim settings do. */
export const claimAt = (claims: Readonly<Record<string, unknown>>, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), claims)
