#!/usr/bin/env node
// The `realtime-server` command (package.json `bin`): `realtime-server --help` lists the commands.
import module from 'node:module'

// Node 22.1+ (the image runs 24) keeps the compiled modules on disk between starts; most of a start is loading
// modules. Node 20 has no such cache: nothing happens. A cache that cannot be written is skipped, not an error.
;(module as { enableCompileCache?: () => unknown }).enableCompileCache?.()

const { run } = await import('./run.js')
const code = await run(process.argv.slice(2))
if (code !== undefined) process.exitCode = code
