// The token bucket of every event limit, as GCRA: one number (the theoretical arrival time) per bucket.
import type { EventLimit } from '../../config/schema.js'

/**
 * A limit in the form GCRA checks it: `interval` ms between events at the sustained rate, and `tolerance` ms
 * of burst (`(burst - 1) * interval`). A bucket is one number, its theoretical arrival time (`tat`, ms):
 * an event at `now` passes when `tat - tolerance <= now`, and moves `tat` one interval on.
 */
export interface Gcra {
  /** ms per event; 0: no limit. */
  readonly interval: number
  readonly tolerance: number
  /** What the limit was configured as (for messages): events at once, and the ms in which `burst` events refill. */
  readonly burst: number
  readonly windowMs: number
}

export const UNLIMITED: Gcra = Object.freeze({ interval: 0, tolerance: 0, burst: 0, windowMs: 0 })

/** The GCRA form of a `{ rate, burst }` limit (`burst` defaults to twice the rate, at least 1). */
export function gcra (limit: EventLimit): Gcra {
  if (limit.rate <= 0) return UNLIMITED
  const burst = limit.burst ?? Math.max(1, Math.ceil(limit.rate * 2))
  const interval = 1000 / limit.rate
  return Object.freeze({ interval, tolerance: (burst - 1) * interval, burst, windowMs: Math.round(burst * interval) })
}

/**
 * The ms to wait before an event passes a bucket whose arrival time is `tat`; 0 when it passes now (the
 * caller then stores `next(tat, now, limit)`).
 */
export function waitOf (tat: number, now: number, limit: Gcra): number {
  const wait = (tat > now ? tat : now) - limit.tolerance - now
  return wait > 0 ? Math.ceil(wait) : 0
}

/** The bucket's arrival time once an event passed at `now`. */
export function next (tat: number, now: number, limit: Gcra): number {
  return (tat > now ? tat : now) + limit.interval
}
