/** The error catalog at the HTTP edge: every error answer, Fastify's and Node's client errors included, carries an RT_ERR_* code. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import {
  asCatalogError, BadRequest, HeadersTooLarge, Internal, isCatalogError, NotFound, PayloadTooLarge, RequestTimeout,
  UnsupportedMediaType, UriTooLong, type RealtimeError
} from '../lib/errors.js'
import { noteAnswer, writeFrameworkRequestLine } from './request-log.js'

/**
 * `Retry-After` (seconds) of a 503 or 429 whose error does not say (`err.retryAfter`): long enough for a load
 * balancer to pick another node or for Redis to come back, short enough not to stall a client.
 */
const DEFAULT_RETRY_AFTER_S = 1

/** Header values echoed in messages are cut here: the message says what was wrong, not the whole input. */
const ECHO_MAX = 100
const echo = (value: string): string => value.length > ECHO_MAX ? `${value.slice(0, ECHO_MAX)}...` : value
const pathOf = (url: string): string => echo(url.split('?', 1)[0]!)
const noRoute = (request: FastifyRequest): RealtimeError => new NotFound(`no route ${request.method} ${pathOf(request.url)}`)

/**
 * Fastify's own client errors (status < 500, `FST_ERR_*`), as catalog errors: what reaches the client is
 * always an RT_ERR_* code. `FST_ERR_VALIDATION` never gets here: `schemaErrorFormatter` makes it RT_ERR_VALIDATION.
 */
const fromFastify: Record<string, (request: FastifyRequest, err: FastifyError) => RealtimeError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => new BadRequest('the body is not valid JSON (Content-Type is application/json)'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new BadRequest('the body is empty but Content-Type is application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new BadRequest('the body size does not match Content-Length'),
  FST_ERR_ROUTE_MISSING_CONTENT: (request) => new BadRequest(`${request.method} needs a body`),
  FST_ERR_BAD_URL: (request) => new BadRequest(`the URL ${pathOf(request.url)} has invalid percent-encoding`),
  FST_ERR_CTP_BODY_TOO_LARGE: (request) => new PayloadTooLarge(`more than ${request.routeOptions.bodyLimit ?? 'the limit of'} bytes`),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (request) => new UnsupportedMediaType(echo(request.headers['content-type'] ?? 'none')),
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: () => new UnsupportedMediaType('none'),
  FST_ERR_MAX_PARAM_LENGTH: (request) => new UriTooLong(pathOf(request.url)),
  FST_ERR_NOT_FOUND: noRoute
}

/** The catalog error to answer for `err`; undefined for a server-side failure (to log, and mask as RT_ERR_INTERNAL). */
function toCatalog (error: FastifyError, request: FastifyRequest): RealtimeError | undefined {
  // A route that hit Redis during an outage answers 503 RT_ERR_NOT_READY.
  const err = asCatalogError(error) as FastifyError
  if (isCatalogError(err)) return err
  const mapped = err.code === undefined ? undefined : fromFastify[err.code]
  if (mapped !== undefined) return mapped(request, err)
  // Client errors of the ecosystem (a JSON syntax error with statusCode 400, ...): their message is meant for the client.
  if (err.statusCode !== undefined && err.statusCode < 500) return new BadRequest(err.message)
  return undefined
}

/** Catalog errors always carry their status (defineError); the fallback only satisfies the type. */
const statusOf = (err: RealtimeError): number => err.statusCode ?? 500

/** The REST error body: `{ statusCode, error, code, message, field? }`. */
function errorBody (err: RealtimeError): Record<string, unknown> {
  const status = statusOf(err)
  const body: Record<string, unknown> = { statusCode: status, error: STATUS_CODES[status], code: err.code, message: err.message }
  if (err.field !== undefined) body.field = err.field
  return body
}

function send (reply: FastifyReply, err: RealtimeError, cause?: unknown): void {
  noteAnswer(reply, err, cause)
  const status = statusOf(err)
  // Whoever throws a 503 or 429 (draining, Redis down, a plugin's rate limit) gets Retry-After without asking for it.
  if ((status === 503 || status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', String(err.retryAfter ?? DEFAULT_RETRY_AFTER_S))
  reply.code(status).send(errorBody(err))
}

/** `setErrorHandler`: catalog errors as they are, Fastify's client errors mapped, anything else logged and masked. */
export function errorHandler (this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = toCatalog(err, request)
  if (known !== undefined) {
    send(reply, known)
    return
  }
  // The failure is logged with the request's line (request-log.ts), at error with its stack.
  send(reply, new Internal(), err)
}

/** `setNotFoundHandler`: an unknown route is RT_ERR_NOT_FOUND naming the method and path. */
export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): void {
  send(reply, noRoute(request))
}

/** Fastify's `frameworkErrors`: errors raised before routing (bad percent-encoding, a path parameter too long). */
export function frameworkErrors (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = toCatalog(err, request)
  if (known === undefined) send(reply, new Internal(), err)
  else send(reply, known)
  writeFrameworkRequestLine(request, reply)
}

/**
 * Fastify's `clientErrorHandler`: requests Node's parser refuses (malformed, headers too large, too slow) never
 * reach Fastify; they still get a catalog body, then the connection closes (as Node does).
 */
export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const error = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new RequestTimeout()
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new HeadersTooLarge()
      : new BadRequest(`malformed HTTP request (${err.code ?? 'parse error'})`)
  // No request line follows (Fastify never saw a request): this is the one line, with the catalog code.
  this.log.info({ code: error.code, status: statusOf(error), reason: err.code ?? err.message }, 'malformed request refused')
  if (socket.writable) {
    const body = JSON.stringify(errorBody(error))
    const status = statusOf(error)
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
