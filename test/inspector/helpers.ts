// Shared setup of the inspector tests: a server with tenant-broadcast, admin keys (one bound to tenant acme), and fetch as an admin.
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
