// The Socket.IO path of the chat-channels profile belongs in the client's `path` option: the chat channels protocol's snippet, which puts it in the URL, never connects (the README says so).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { startServer } from 'realtime-server/testing'

const profile = JSON.parse(readFileSync(new URL('../../../config/examples/chat-channels.json', import.meta.url), 'utf8'))

t.test('io(url + "/api/socket.io") is a namespace on the default path and fails; io(url, { path }) connects', async (t) => {
  const server = await startServer({ config: profile })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'alice' })

  // The seed's form: `/api/socket.io` read as a namespace, requested on the default path `/socket.io/`.
  const wrong = server.client('/api/socket.io', { path: '/socket.io', token, transports: ['polling'] })
  const err = await new Promise<Error>((resolve) => wrong.once('connect_error', resolve))
  t.match(err.message, /xhr poll error/, 'the handshake on the default path fails')
  const handshake = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`)
  t.equal(handshake.status, 404, 'nothing answers Socket.IO on the default path')
  await handshake.text()

  const right = await server.connect('/', { path: '/api/socket.io', token })
  t.ok(right.connected, 'the path option connects')
})
