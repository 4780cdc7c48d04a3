// Admin credentials of the inspector: keys of `admin.keys`, given as HTTP Basic (the key is the password) or `x-admin-key`.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ServerConfig } from '../../config/schema.js'
import { AdminUnauthorized, Forbidden, InspectorOff } from '../../lib/errors.js'

/** Who is inspecting: a key's label, and the tenant it is bound to (undefined: every tenant). */
export interface Admin {
  readonly name: string
  readonly tenantId?: string
}

/** The realm browsers show in their sign-in prompt. */
const REALM = 'realtime-server inspector'
const BASIC = /^basic\s+(\S+)$/i

const digest = (key: string): Buffer => createHash('sha256').update(key).digest()

interface Entry extends Admin {
  readonly digest: Buffer
}

/** The key a request carries: `x-admin-key`, else the password of `Authorization: Basic`; undefined when none. */
function presented (request: FastifyRequest): string | undefined {
  const header = request.headers['x-admin-key']
  if (typeof header === 'string' && header.length > 0) return header
  const m = BASIC.exec(request.headers.authorization ?? '')
  if (m === null) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const password = colon < 0 ? decoded : decoded.slice(colon + 1)
  return password.length > 0 ? password : undefined
}

export class AdminAuthenticator {
  readonly #keys: Entry[]

  constructor (admin: ServerConfig['admin']) {
    this.#keys = admin.keys.map((k, i) => typeof k === 'string'
      ? { digest: digest(k), name: `admin#${i + 1}` }
      : { digest: digest(k.key), name: k.name ?? `admin#${i + 1}`, ...(k.tenantId === undefined ? {} : { tenantId: k.tenantId }) })
  }

  /** No keys: the inspector answers RT_ERR_INSPECTOR_OFF everywhere. */
  get enabled (): boolean { return this.#keys.length > 0 }

  /**
   * The admin of a request, or a catalog error: RT_ERR_INSPECTOR_OFF without keys, RT_ERR_ADMIN_UNAUTHORIZED
   * (with a Basic challenge, so a browser asks) for a missing or unknown key. Every key is compared, in constant time.
   */
  authenticate (request: FastifyRequest, reply: FastifyReply): Admin {
    if (!this.enabled) throw new InspectorOff()
    const key = presented(request)
    if (key === undefined) {
      void reply.header('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
      throw new AdminUnauthorized('sign in with an admin key as the password')
    }
    const d = digest(key)
    let found: Entry | undefined
    for (const entry of this.#keys) if (timingSafeEqual(d, entry.digest) && found === undefined) found = entry
    if (found === undefined) {
      void reply.header('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
      throw new AdminUnauthorized('unknown admin key')
    }
    return found.tenantId === undefined ? { name: found.name } : { name: found.name, tenantId: found.tenantId }
  }
}

/**
 * The tenant an admin acts on: a tenant-bound key always its own (naming another is 403), an unbound key
 * the one it names, or undefined (every tenant) where the route allows it.
 */
export function adminTenant (admin: Admin, requested: string | undefined): string | undefined {
  if (admin.tenantId === undefined) return requested
  if (requested !== undefined && requested !== admin.tenantId) throw new Forbidden(`this admin key acts only within tenant ${admin.tenantId}`)
  return admin.tenantId
}
