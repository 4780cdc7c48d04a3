// One error catalog at every HTTP edge: Fastify's and Node's client errors, unknown routes and auth-before-validation, through a real server.
import t from 'tap'
import { once } from 'node:events'
import net from 'node:net'
import { definePlugin, RateLimited, Type } from 'realtime-server'
import { startServer, TEST_API_KEY } from 'realtime-server/testing'
import { NotReady } from '../../src/lib/errors.js'

const edge = definePlugin({
  name: 'edge',
  options: Type.Object({}),
  setup (app) {
    const { realtime } = app
    app.get('/items/:id', { onRequest: realtime.authenticate('user') }, async (request) => ({ id: (request.params as { id: string }).id }))
    app.get('/busy', async () => { throw new NotReady('redis unreachable') })
    app.get('/busy-long', async () => {
      const err = new NotReady('warming up')
      err.retryAfter = 7
      throw err
    })
    app.get('/slow-down', async () => { throw new RateLimited('10 per second') })
    realtime.trigger('/echo', { body: Type.Object({ name: Type.String({ minLength: 1 }) }) }, async (request) => request.body)
  }
})

/** A raw HTTP/1.1 exchange on its own connection: what Node's parser refuses never reaches fetch-friendly ground. */
async function raw (port: number, request: string): Promise<{ head: string, body: any }> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {}) // the server closes after answering; a write racing that is not what is tested
  socket.write(request)
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  await once(socket, 'close')
  const text = Buffer.concat(chunks).toString()
  const split = text.indexOf('\r\n\r\n')
  return { head: text.slice(0, split), body: JSON.parse(text.slice(split + 4)) }
}

t.test('client errors answer catalog codes, never FST_*', async (t) => {
  const server = await startServer({ config: { server: { bodyLimit: 2048 } }, plugins: [{ plugin: edge }] })
  t.teardown(() => server.close())
  const post = async (headers: Record<string, string>, body: string): Promise<{ status: number, body: any }> => {
    const res = await fetch(`${server.url}/api/edge/echo`, { method: 'POST', headers, body })
    return { status: res.status, body: await res.json() }
  }
  const json = { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY }

  t.same(await post(json, '{"name":"ada"}'), { status: 200, body: { name: 'ada' } }, 'the route works')
  t.same(await post(json, '{"name": '), {
    status: 400,
    body: { statusCode: 400, error: 'Bad Request', code: 'RT_ERR_BAD_REQUEST', message: 'Bad request: the body is not valid JSON (Content-Type is application/json)' }
  }, 'a body that is not JSON')
  t.match(await post(json, ''), { status: 400, body: { code: 'RT_ERR_BAD_REQUEST', message: /body is empty/ } }, 'an empty JSON body')
  t.match(await post(json, JSON.stringify({ name: 'x'.repeat(3000) })), {
    status: 413, body: { statusCode: 413, error: 'Payload Too Large', code: 'RT_ERR_PAYLOAD_TOO_LARGE', message: 'Request body too large: more than 2048 bytes' }
  }, 'a body over server.bodyLimit')
  t.match(await post({ 'content-type': 'text/plain', 'x-api-key': TEST_API_KEY }, 'name=ada'), {
    status: 415, body: { code: 'RT_ERR_UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported media type: text/plain' }
  }, 'a body that is not JSON by its Content-Type')
  t.match(await post(json, '{}'), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'name' } }, 'validation keeps its own code')

  const notFound = await fetch(`${server.url}/no/such/route?token=abc`, { method: 'DELETE' })
  t.equal(notFound.status, 404)
  t.same(await notFound.json(), { statusCode: 404, error: 'Not Found', code: 'RT_ERR_NOT_FOUND', message: 'Not found: no route DELETE /no/such/route' },
    'an unknown route names the method and the path, not the query')

  const longId = await fetch(`${server.url}/api/edge/items/${'x'.repeat(150)}`, { headers: { 'x-api-key': TEST_API_KEY } })
  t.equal(longId.status, 414)
  t.match(await longId.json(), { code: 'RT_ERR_URI_TOO_LONG' }, 'a path parameter over the router limit')
  const badEncoding = await fetch(`${server.url}/api/edge/items/%E0%A4%A`, { headers: { 'x-api-key': TEST_API_KEY } })
  t.equal(badEncoding.status, 400)
  t.match(await badEncoding.json(), { code: 'RT_ERR_BAD_REQUEST', message: /invalid percent-encoding/ }, 'a path with broken percent-encoding')

  const garbage = await raw(server.port, 'NOT AN HTTP REQUEST\r\n\r\n')
  t.match(garbage.head, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(garbage.head, /\r\nConnection: close/i)
  t.match(garbage.body, { statusCode: 400, code: 'RT_ERR_BAD_REQUEST', message: /^Bad request: malformed HTTP request \(HPE_/ }, 'what Node cannot parse')
  const headers = await raw(server.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`)
  t.match(headers.head, /^HTTP\/1\.1 431 /)
  t.match(headers.body, { statusCode: 431, code: 'RT_ERR_HEADERS_TOO_LARGE' }, 'headers over Node\'s limit')
})

t.test('credentials are checked before the body: no key and a bad body is 401, not 400', async (t) => {
  const server = await startServer({ config: { server: { bodyLimit: 2048 } }, plugins: [{ plugin: edge }] })
  t.teardown(() => server.close())
  const post = async (headers: Record<string, string>, body: string): Promise<{ status: number, body: any }> => {
    const res = await fetch(`${server.url}/api/edge/echo`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    return { status: res.status, body: await res.json() }
  }
  for (const [what, body] of [['an invalid body', '{}'], ['a body that is not JSON', '{"name": '], ['a body over the limit', 'x'.repeat(3000)]]) {
    const res = await post({}, body!)
    t.equal(res.status, 401, `${what} without credentials`)
    t.equal(res.body.code, 'RT_ERR_UNAUTHORIZED')
    t.notMatch(JSON.stringify(res.body), /name|JSON|bytes/, 'the answer says nothing about the schema')
  }
  t.match(await post({ 'x-api-key': 'wrong-key-0123456789' }, '{}'), { status: 401, body: { code: 'RT_ERR_UNAUTHORIZED' } }, 'a wrong key too')
  t.match(await post({ 'x-api-key': TEST_API_KEY }, '{}'), { status: 400, body: { code: 'RT_ERR_VALIDATION' } }, 'a right key then meets validation')

  // Routes of the built-in plugins use realtime.authenticate() as onRequest too: the querystring is not validated for strangers.
  const items = await fetch(`${server.url}/api/edge/items/1`)
  t.equal(items.status, 401, 'a plugin route without credentials')
})

t.test('every 503 and 429 catalog answer carries Retry-After', async (t) => {
  const server = await startServer({ plugins: [{ plugin: edge }] })
  t.teardown(() => server.close())
  const busy = await fetch(`${server.url}/api/edge/busy`)
  t.equal(busy.status, 503)
  t.equal(busy.headers.get('retry-after'), '1', 'the default for an error that does not say')
  t.match(await busy.json(), { code: 'RT_ERR_NOT_READY', message: 'Not ready: redis unreachable' })
  const long = await fetch(`${server.url}/api/edge/busy-long`)
  t.equal(long.headers.get('retry-after'), '7', 'err.retryAfter when the thrower knows better')
  const limited = await fetch(`${server.url}/api/edge/slow-down`)
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '1')
  t.match(await limited.json(), { code: 'RT_ERR_RATE_LIMITED' })
  const ok = await fetch(`${server.url}/health`)
  t.equal(ok.headers.get('retry-after'), null, 'not on other answers')
  const notFound = await fetch(`${server.url}/nothing`)
  t.equal(notFound.headers.get('retry-after'), null)
})
