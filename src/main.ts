// The server process: `realtime-server start` (src/cli/start.ts). `node dist/src/main.js [--config f] [--help]`.
import { run } from './cli/run.js'

const code = await run(['start', ...process.argv.slice(2)])
if (code !== undefined) process.exitCode = code
