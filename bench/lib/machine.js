// The machine the bench runs on: CPU pinning, per-core load from /proc/stat (to see foreign load on a
// shared machine), the open-file limit, free ports.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Pins this process to one CPU with taskset ('none' leaves it alone). */
export function pinSelf (cpu) {
  if (cpu === undefined || cpu === '' || cpu === 'none') return
  try {
    execFileSync('taskset', ['-cp', String(cpu), String(process.pid)], { stdio: 'ignore' })
  } catch {
    console.warn(`warning: could not pin the load generator to CPU ${cpu} (taskset missing?)`)
  }
}

export function hasTaskset () {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Per-CPU jiffies from /proc/stat: user nice system idle iowait irq softirq steal. */
export function readCpuStat () {
  const out = {}
  try {
    for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^(cpu\d+) (.*)$/.exec(line)
      if (m) out[m[1]] = m[2].trim().split(/\s+/).slice(0, 8).map(Number)
    }
  } catch {}
  return out
}

/** -> { cpu0: { busy, usr, sys, si, st }, ... } in percent over the interval. */
export function cpuStatDelta (a, b) {
  const res = {}
  for (const k of Object.keys(b)) {
    if (a[k] === undefined) continue
    const d = b[k].map((v, i) => v - a[k][i])
    const tot = d.reduce((x, y) => x + y, 0) || 1
    const pct = (v) => Math.round((v / tot) * 1000) / 10
    res[k] = { busy: pct(tot - d[3] - d[4]), usr: pct(d[0] + d[1]), sys: pct(d[2]), si: pct(d[5] + d[6]), st: pct(d[7]) }
  }
  return res
}

/**
 * CPU time on the server's and the client's cores that is neither ours nor the server's: the load of
 * other tenants of a shared machine, in percent of one core (max over the two cores).
 */
export function foreignLoad (cores, serverCpu, serverCpuPct, clientCpu, clientCpuPct) {
  const s = cores[`cpu${serverCpu}`]
  const c = cores[`cpu${clientCpu}`]
  if (s === undefined || c === undefined) return NaN
  if (String(serverCpu) === String(clientCpu)) return Math.max(0, s.busy - serverCpuPct - clientCpuPct)
  return Math.max(0, s.busy - serverCpuPct, c.busy - clientCpuPct)
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit () {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
    if (m) return m[1] === 'unlimited' ? Infinity : Number(m[1])
  } catch {}
  return Infinity
}

/** Throws early (with the fix) when `needed` sockets cannot be opened by one process. */
export function requireOpenFiles (needed) {
  const limit = openFileLimit()
  if (limit < needed) {
    throw new Error(`this run opens ~${needed} sockets per process but the open-file limit is ${limit}; run \`ulimit -n ${Math.max(20000, needed)}\` first`)
  }
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => { resolve(port) })
    })
  })
}

export const cpuCount = () => os.availableParallelism?.() ?? os.cpus().length

/**
 * CPU time (µs) of the threads of `pid`, from /proc/<pid>/task/<tid>/stat (utime + stime): the main thread (the event
 * loop) as `main`, the others summed by thread name (V8's platform workers and libuv's pool are all named `node`).
 */
export function threadCpu (pid) {
  const tick = 1e6 / 100 // USER_HZ: 100 on Linux
  const byName = {}
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat
    try { stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8') } catch { continue } // the thread ended
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick // fields 14, 15 of stat
  }
  return byName
}
