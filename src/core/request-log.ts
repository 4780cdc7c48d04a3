// One log line per REST request, written once the answer is sent: method, route, status, time, and the catalog code of an error answer.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { RealtimeError } from '../lib/errors.js'

/** How much of a path a line keeps; the query string is never logged (it may carry a token). */
const PATH_MAX = 200

/** The catalog error each error answer was sent with, and the failure it masks (an RT_ERR_INTERNAL's cause). */
const answers = new WeakMap<FastifyReply, { error: RealtimeError, cause: unknown }>()

/**
 * Notes the catalog error a reply answers with (the error handlers of `http-errors.ts` call it), and for an
 * `RT_ERR_INTERNAL` the error it masks: the request's line carries its code, message and field, and the stack.
 */
export function noteAnswer (reply: FastifyReply, error: RealtimeError, cause?: unknown): void {
  answers.set(reply, { error, cause })
}

/**
 * Replaces Fastify's two lines per request ('incoming request', 'request completed': `disableRequestLogging`
 * turns them off) with one, written in `onResponse`: 'request' with `method`, `url` (the path), `route` (the
 * route's pattern), `status`, `ms`, and for an error answer `code`, `reason` (its message) and `field`.
 * Level: `error` for a 5xx other than 503 (with `err`, the failure), `info` otherwise (a 503 is the drain or a
 * Redis outage answering as designed; both are logged where they start). The probes' routes log at `warn` and
 * above only (health.ts): polled every few seconds, they would drown the rest.
 */
export function requestLog (app: FastifyInstance): void {
  app.addHook('onResponse', function logRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (!written.has(reply)) writeRequestLine(request, reply)
    done()
  })
}

/** The replies whose line was written outside `onResponse` (see `writeFrameworkRequestLine`). */
const written = new WeakSet<FastifyReply>()

/**
 * The request's line for an answer sent where Fastify runs no `onResponse` hook: its `frameworkErrors`, raised
 * before routing (bad percent-encoding, a parameter too long). Should a later Fastify run the hook, the line stays one.
 */
export function writeFrameworkRequestLine (request: FastifyRequest, reply: FastifyReply): void {
  written.add(reply)
  writeRequestLine(request, reply)
}

function writeRequestLine (request: FastifyRequest, reply: FastifyReply): void {
  const status = reply.statusCode
  const route = request.routeOptions.url
  const query = request.url.indexOf('?')
  const path = query < 0 ? request.url : request.url.slice(0, query)
  const line: Record<string, unknown> = {
    method: request.method,
    url: path.length > PATH_MAX ? `${path.slice(0, PATH_MAX)}...` : path,
    route,
    status,
    ms: Math.round(reply.elapsedTime * 10) / 10
  }
  const answer = answers.get(reply)
  if (answer !== undefined) {
    line.code = answer.error.code
    line.reason = answer.error.message
    if (answer.error.field !== undefined) line.field = answer.error.field
    if (answer.cause !== undefined) line.err = answer.cause
  }
  if (status >= 500 && status !== 503) request.log.error(line, 'request')
  else request.log.info(line, 'request')
}
