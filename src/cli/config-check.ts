/** Kept for its callers: `realtime-server check [--config] <file>` (src/cli/check.ts). */
import { run } from './run.js'

const code = await run(['check', ...process.argv.slice(2)])
if (code !== undefined) process.exitCode = code
