// The limits' clock: Date.now() read once per turn of the event loop, not once per event.
//
// Reading the clock is a system call where the vDSO is not available (some VMs and sandboxes: ~0.4 µs, measured
// in bench/README.md), which would be several percent of an event's cost; the events read from one socket (or
// many) in one turn share one reading, reset when the turn ends (one setImmediate per turn that had events).

let cached = 0

function reset (): void { cached = 0 }

/** The time in ms, as read at the first call in this turn of the event loop. */
export function clock (): number {
  if (cached === 0) {
    cached = Date.now()
    setImmediate(reset)
  }
  return cached
}
