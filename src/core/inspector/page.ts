// The inspector page's static files (plain HTML, JS and CSS, no build step), read from page/ next to this module.
import { readFile } from 'node:fs/promises'
import type { FastifyReply } from 'fastify'

/**
 * page/ sits next to this module in src/ and, copied by `npm run build`, in dist/src/core/inspector/page/: the
 * production image, which has dist and config only, serves the same files.
 */
const FILES = {
  'inspector.html': 'text/html; charset=utf-8',
  'inspector.js': 'text/javascript; charset=utf-8',
  'inspector.css': 'text/css; charset=utf-8'
} as const

export type PageFile = keyof typeof FILES

/** Scripts, styles and requests from the server itself only; never framed. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const cache = new Map<PageFile, Buffer>()

/** Sends one of the page's files, read once. */
export async function sendPageFile (reply: FastifyReply, file: PageFile): Promise<FastifyReply> {
  let body = cache.get(file)
  if (body === undefined) {
    body = await readFile(new URL(`./page/${file}`, import.meta.url))
    cache.set(file, body)
  }
  return await reply
    .header('content-type', FILES[file])
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(body)
}
