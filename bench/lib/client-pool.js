// The load generator of bench/curve.js spread over several processes (lib/client-worker.js): one process
// cannot hold 19,000 or 50,000 clients (20,000 open files at most) and one source address runs out of
// ephemeral ports near 28,000, so worker k binds its clients to 127.0.0.(2+k). The workers inherit the
// parent's CPU affinity (pin the parent first).
import { fork } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const workerFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client-worker.js')

/** The number of worker processes for `clients` clients, at most `perWorker` each. */
export const workersFor = (clients, perWorker) => Math.max(1, Math.ceil(clients / perWorker))

export class ClientPool {
  /** @param {number} workers processes to fork, worker k on source address 127.0.0.(2+k) */
  constructor (workers) {
    this.workers = []
    this.opened = 0
    for (let k = 0; k < workers; k++) {
      const child = fork(workerFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      const w = { child, address: `127.0.0.${2 + k}`, nextId: 1, pending: new Map(), exitCode: undefined }
      child.on('message', (m) => {
        const p = w.pending.get(m.id)
        if (p === undefined) return
        w.pending.delete(m.id)
        if (m.error !== undefined) p.reject(new Error(`client worker ${k + 1}: ${m.error}`))
        else p.resolve(m)
      })
      child.on('exit', (code, signal) => {
        w.exitCode = code ?? signal
        for (const p of w.pending.values()) p.reject(new Error(`client worker ${k + 1} exited (${w.exitCode})`))
        w.pending.clear()
      })
      this.workers.push(w)
    }
  }

  #ask (w, cmd, fields = {}) {
    if (w.exitCode !== undefined) return Promise.reject(new Error(`client worker ${w.address} exited (${w.exitCode})`))
    const id = w.nextId++
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject })
      w.child.send({ id, cmd, ...fields })
    })
  }

  #all (cmd, fields) { return Promise.all(this.workers.map((w) => this.#ask(w, cmd, fields))) }

  /**
   * Opens `n` more clients (numbered on from the ones already open), split evenly over the workers; client k
   * connects to ports[k % ports.length]. -> { ok, failed, errors, ms }
   */
  async open ({ variant, ports, n, concurrency = 100, timeoutMs = 300000 }) {
    const t0 = performance.now()
    const shares = []
    let first = this.opened
    for (let k = 0; k < this.workers.length; k++) {
      const share = Math.floor(n / this.workers.length) + (k < n % this.workers.length ? 1 : 0)
      shares.push({ first, n: share })
      first += share
    }
    const rs = await Promise.all(this.workers.map((w, k) => shares[k].n === 0
      ? { ok: 0, failed: 0, errors: [] }
      : this.#ask(w, 'open', { variant, ports, first: shares[k].first, n: shares[k].n, localAddress: w.address, concurrency, timeoutMs })))
    this.opened += n
    return {
      ok: rs.reduce((a, r) => a + r.ok, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      errors: rs.flatMap((r) => r.errors).slice(0, 5),
      ms: performance.now() - t0
    }
  }

  /** Zeroes every count: deliveries are counted from here. */
  async reset () { await this.#all('reset') }

  /** -> { delivered (since reset, all workers), cpuMs (user + system of all workers, cumulative) } */
  async totals () {
    const rs = await this.#all('totals')
    return { delivered: rs.reduce((a, r) => a + r.delivered, 0), cpuMs: rs.reduce((a, r) => a + (r.cpu.user + r.cpu.system) / 1000, 0) }
  }

  /** Per trigger from..to: deliveries over all workers and the time of the last one (lib/clock.js ms, 0 if none). */
  async deliveries (from, to) {
    const rs = await this.#all('deliveries', { from, to })
    const count = new Array(to - from + 1).fill(0)
    const last = new Array(to - from + 1).fill(0)
    for (const r of rs) {
      for (let i = 0; i < count.length; i++) {
        count[i] += r.count[i]
        if (r.last[i] > last[i]) last[i] = r.last[i]
      }
    }
    return { count, last }
  }

  /** Waits until every client got `expected` events since reset (or timeoutMs): { done, missing, short, extra, lost }. */
  async wait (expected, timeoutMs = 15000) {
    const rs = await this.#all('wait', { expected, timeoutMs })
    const sum = (k) => rs.reduce((a, r) => a + r[k], 0)
    return { done: rs.every((r) => r.done), missing: sum('missing'), short: sum('short'), extra: sum('extra'), lost: sum('lost') }
  }

  /** Closes every client and ends the workers. */
  async close () {
    await Promise.all(this.workers.map((w) => this.#ask(w, 'close').catch(() => {})))
    await Promise.all(this.workers.map((w) => w.exitCode !== undefined
      ? undefined
      : new Promise((resolve) => {
        const t = setTimeout(() => { w.child.kill('SIGKILL') }, 3000)
        w.child.once('exit', () => { clearTimeout(t); resolve() })
      })))
  }
}
