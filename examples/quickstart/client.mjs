#!/usr/bin/env node
// A Socket.IO client that prints every event it receives: `node client.mjs [url] [namespace]`
// (default http://localhost:3000 and `/`). The token is TOKEN; without it, a development token for user u1 of
// tenant acme, which only a server still on the development secret accepts (it says so). A refused or failed
// connection prints the error, its code and a hint, and exits 1. Its dependencies (socket.io-client, fast-jwt)
// resolve next to this file, so it runs from any folder.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let io
try {
  ({ io } = require('socket.io-client'))
} catch {
  process.stderr.write(`socket.io-client is not installed where ${process.argv[1]} can find it: run \`npm install socket.io-client@4.8\` in the project that holds realtime-server (in a checkout of realtime-server, \`npm install\`)\n`)
  process.exit(1)
}

const url = process.argv[2] ?? 'http://localhost:3000'
const namespace = process.argv[3] ?? '/'
const path = process.env.SOCKETIO_PATH || '/socket.io'
let token = process.env.TOKEN || undefined
if (token === undefined) {
  const { mintToken } = await import('./token.mjs')
  token = mintToken({ sub: 'u1', tenant: 'acme' })
  process.stderr.write('TOKEN is unset: using a development token (user u1, tenant acme, role admin) signed with the development secret; a server with its own JWT_SECRET refuses it\n')
}

const print = (line) => process.stdout.write(line + '\n')
const json = (v) => v === undefined ? '' : JSON.stringify(v)
const socket = io(new URL(namespace, url).href, { path, auth: { token }, transports: ['websocket'], reconnection: true })

socket.on('connect', () => print(`connected to ${url}${namespace === '/' ? '' : namespace} as ${socket.id}`))
socket.onAny((event, ...args) => print(`${event} ${args.map(json).join(' ')}`.trimEnd()))
socket.on('connect_error', (err) => {
  const code = err.data?.code
  const hint = code?.startsWith('RT_ERR_AUTH') === true
    ? 'the server refused the token: set TOKEN to one signed with its JWT_SECRET'
    : `is a server listening at ${url}${path === '/socket.io' ? '' : ` with socketio.path ${path}`}?`
  process.stderr.write(`connect_error: ${err.message}${code === undefined ? '' : ` (${code})`}: ${hint}\n`)
  socket.close()
  process.exitCode = 1
})
socket.on('disconnect', (reason) => {
  print(`disconnected: ${reason}`)
  if (reason === 'io server disconnect') {
    socket.close()
    process.exitCode = 1
  }
})
process.on('SIGINT', () => { socket.close() })
process.on('SIGTERM', () => { socket.close() })
