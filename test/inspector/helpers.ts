// Shared setup of the inspector tests: a server with tenant-broadcast, admin keys (one bound to tenant acme), and fetch as an admin.
import { get, type IncomingMessage } from 'node:http'
import { startServer, type StartOptions, type TestServer } from 'realtime-server/testing'

export const ADMIN_KEY = 'admin-key-0123456789abcdef'
export const ACME_KEY = 'acme-admin-0123456789abcdef'

/** tenant-broadcast with one custom event type, so a test publishes through its trigger without a catalog payload. */
export const inspectorConfig = (admin = true): Record<string, any> => ({
  admin: admin ? { keys: [ADMIN_KEY, { key: ACME_KEY, tenantId: 'acme', name: 'acme-ops' }] } : {},
  plugins: {
    'tenant-broadcast': { options: { customEvents: { 'probe:ping': { schema: { type: 'object' } } } } }
  }
})

export async function inspectorServer (options: Omit<StartOptions, 'config'> & { admin?: boolean } = {}): Promise<TestServer> {
  const { admin, ...rest } = options
  return await startServer({ ...rest, config: inspectorConfig(admin ?? true) })
}

/** A request to the inspector API with an admin key in `x-admin-key` (`null`: none). */
export async function adminRequest (server: TestServer, method: string, path: string, key: string | null = ADMIN_KEY, body?: unknown): Promise<{ status: number, body: any, headers: Headers }> {
  const headers: Record<string, string> = {}
  if (key !== null) headers['x-admin-key'] = key
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: res.status, body: parsed, headers: res.headers }
}

/** A live tail read over fetch: the records so far, and whether the stream said `ready`. */
export interface TailReader {
  readonly records: any[]
  readonly ready: Promise<void>
  close (): void
}

/**
 * Opens `/inspector/api/tail` (query string `query`) and collects its records until closed. Over node:http on a
 * connection of its own (fetch's pool may open a spare connection that keeps the server's close waiting).
 */
export async function openTail (server: TestServer, query = '', key = ADMIN_KEY): Promise<TailReader> {
  const records: any[] = []
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => { onReady = resolve })
  const req = get(`${server.url}/inspector/api/tail${query === '' ? '' : `?${query}`}`, { headers: { 'x-admin-key': key }, agent: false })
  const res = await new Promise<IncomingMessage>((resolve, reject) => { req.once('response', resolve).once('error', reject) })
  if (res.statusCode !== 200) {
    req.destroy()
    throw new Error(`tail answered ${String(res.statusCode)}`)
  }
  res.setEncoding('utf8')
  let buffer = ''
  res.on('data', (chunk: string) => {
    buffer += chunk
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event === 'ready') onReady()
      else if (event === undefined && data !== undefined) records.push(JSON.parse(data))
    }
  })
  res.on('error', () => {})
  req.on('error', () => {})
  return { records, ready, close: () => { req.destroy() } }
}

/** The core of a test server (its registry), for assertions on what is hooked into publishing. */
export const coreOf = (server: TestServer): any => (server.app as any)[Symbol.for('realtime-server.core')]

/** Publishes `probe:ping` through tenant-broadcast's trigger with the test API key. */
export async function ping (server: TestServer, tenantId: string, payload: Record<string, unknown> = {}): Promise<void> {
  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { tenantId, type: 'probe:ping', payload } })
  if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body)}`)
}
