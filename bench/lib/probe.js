// Preloaded into every server under test (`node --import bench/lib/probe.js <server>`), the product
// included, so that the bench reads the same figures from the same place for every variant. It only
// answers the bench over the IPC channel and is idle otherwise:
//   { cmd: 'stats' } -> cpu (process.cpuUsage), event-loop utilisation, memory, open fds, clock
//   { cmd: 'gc' }    -> two full GCs (needs --expose-gc), then stats
//   { cmd: 'snapshot', file } -> two full GCs, then v8.writeHeapSnapshot(file) (bench/profile/memory-snapshot.js)
//   { cmd: 'exit' }  -> exits at once (the server closes its sockets first: TIME_WAIT lands on its side)
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import v8 from 'node:v8'

function openFds () {
  try {
    return fs.readdirSync('/proc/self/fd').length
  } catch {
    return -1
  }
}

function stats () {
  const m = process.memoryUsage()
  return {
    pid: process.pid,
    cpu: process.cpuUsage(),
    now: performance.now(),
    elu: performance.eventLoopUtilization(),
    mem: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
    fds: openFds()
  }
}

if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (msg === null || typeof msg !== 'object' || typeof msg.cmd !== 'string' || !msg.bench) return
    const reply = (data) => { process.send({ bench: true, id: msg.id, ...data }) }
    switch (msg.cmd) {
      case 'stats':
        reply(stats())
        return
      case 'gc':
        if (typeof globalThis.gc !== 'function') {
          reply({ error: 'start the server with --expose-gc', ...stats() })
          return
        }
        globalThis.gc()
        setTimeout(() => {
          globalThis.gc()
          reply(stats())
        }, 200)
        return
      case 'snapshot':
        globalThis.gc?.()
        setTimeout(() => {
          globalThis.gc?.()
          const before = stats() // read first: writing the snapshot grows the RSS
          reply({ file: v8.writeHeapSnapshot(msg.file), ...before })
        }, 200)
        return
      case 'exit':
        reply({})
        setTimeout(() => { process.exit(0) }, 20)
    }
  })
  // The bench's channel must not keep a server alive that is shutting down on its own.
  process.channel?.unref()
  process.on('disconnect', () => { process.exit(0) })
}
