// One clock for several processes: CLOCK_MONOTONIC in milliseconds. performance.now() counts from each
// process's own start, so it is offset once by process.hrtime (the same monotonic clock in every process of
// the machine): a time stamped by the load generator can be subtracted from a time read by a client worker.

const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now()

/** Milliseconds of the machine's monotonic clock, comparable across processes (no allocation per call). */
export const monoNow = () => performance.now() + offset
