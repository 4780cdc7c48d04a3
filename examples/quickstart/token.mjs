#!/usr/bin/env node
// Prints a JWT for a test client: `node token.mjs --sub u1 --tenant acme [--role admin] [--expires-in 3600]`.
// Signed (HS256) with JWT_SECRET, or with the development secret a server uses when it has no key of its own
// (outside NODE_ENV=production). Its dependencies resolve next to this file, so it runs from any folder.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createSigner } from 'fast-jwt'

export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me'

/** A token for `claims`, signed with `secret`, expiring in `expiresIn` seconds. */
export function mintToken ({ sub, tenant, role = 'admin', expiresIn = 3600, secret = DEVELOPMENT_JWT_SECRET }) {
  return createSigner({ key: secret, expiresIn: expiresIn * 1000 })({ sub, tenantId: tenant, role })
}

const isMain = (() => { try { return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url) } catch { return false } })()

if (isMain) {
  let args
  try {
    ({ values: args } = parseArgs({ options: { sub: { type: 'string' }, tenant: { type: 'string' }, role: { type: 'string', default: 'admin' }, 'expires-in': { type: 'string', default: '3600' } } }))
  } catch (err) {
    process.stderr.write(`${err.message}\nusage: node token.mjs --sub <user> --tenant <tenant> [--role admin] [--expires-in 3600]\n`)
    process.exit(2)
  }
  if (args.sub === undefined || args.tenant === undefined) {
    process.stderr.write('usage: node token.mjs --sub <user> --tenant <tenant> [--role admin] [--expires-in 3600]\n')
    process.exit(2)
  }
  const secret = process.env.JWT_SECRET || undefined
  if (secret === undefined) process.stderr.write('JWT_SECRET is unset: signed with the development secret (accepted only by a server without a key of its own)\n')
  process.stdout.write(mintToken({ sub: args.sub, tenant: args.tenant, role: args.role, expiresIn: Number(args['expires-in']), secret }) + '\n')
}
