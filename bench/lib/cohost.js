// Preloaded (`--import`) into bench/servers/baseline.js for the `socketio-cohost` variant: before bare Socket.IO
// starts, the product is started in the same process from dist/ (BENCH_COHOST_DIST) with the bench's config
// (BENCH_COHOST_CONFIG) on a port of its own, as `realtime-server start` starts it. The clients still talk to bare
// Socket.IO; the product only shares its process: its code, its heap, its patches of Socket.IO's and Engine.IO's
// prototypes, its timers. If bare Socket.IO's handshake or broadcast gets slower beside it, part of the product's
// gap is the process it runs in; if not, the gap is the work on the product's own path.
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const dist = process.env.BENCH_COHOST_DIST
const config = process.env.BENCH_COHOST_CONFIG
if (dist === undefined || config === undefined) throw new Error('cohost.js needs BENCH_COHOST_DIST and BENCH_COHOST_CONFIG')
const { run } = await import(pathToFileURL(path.join(dist, 'src', 'cli', 'run.js')).href)
// `start` resolves once the product listens, and exits the process if it cannot.
const code = await run(['start', '--config', config])
if (code !== undefined && code !== 0) process.exit(code)
