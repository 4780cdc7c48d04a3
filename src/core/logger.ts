// The pino logger options: level, redaction of tokens and keys, JSON lines or pino-pretty.
import type { FastifyServerOptions } from 'fastify'
import { destination, type DestinationStream } from 'pino'
import type { ServerConfig } from '../config/schema.js'
import { ConfigInvalid } from '../lib/errors.js'

/** Paths pino censors wherever they appear in a log line: tokens, API keys, Authorization headers, secrets. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'handshake.auth',
  'handshake.headers.authorization',
  'auth.token',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'password',
  '*.password'
]

/**
 * The logger of `buildApp`: JSON lines on `stream` (stdout by default); with `server.logPretty`, the same entries
 * through pino-pretty, synchronously (no worker thread: the last lines before exit are not lost).
 *
 * Stdout is written synchronously, in the order lines are logged. pino's default stdout destination writes
 * asynchronously and, at exit, writes what it still holds synchronously while an earlier write may still be under
 * way: the shutdown's last two lines (`redis closed`, `closed`) were seen in the wrong order about once in ten
 * shutdowns on a loaded machine. Nothing logs per message or per event (debug aside), so the cost is a system call
 * per line.
 */
export async function loggerOptions (config: ServerConfig, stream?: DestinationStream): Promise<FastifyServerOptions['logger']> {
  const base = { level: config.server.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }
  if (config.server.logPretty) return { ...base, stream: await prettyStream(stream) }
  return { ...base, stream: stream ?? destination({ dest: 1, sync: true }) }
}

/** pino-pretty writing to `destination` (stdout by default); a config error when it is not installed. */
async function prettyStream (destination: DestinationStream | undefined): Promise<DestinationStream> {
  let pretty: typeof import('pino-pretty').PinoPretty
  try {
    pretty = (await import('pino-pretty')).default
  } catch (err) {
    throw new ConfigInvalid('server.logPretty (LOG_PRETTY): pino-pretty is not installed (it is a devDependency, left out of the production image); ' +
      'run `npm install`, or turn logPretty off and pipe the JSON lines through `npx pino-pretty`', { cause: err })
  }
  return pretty({ sync: true, destination: destination ?? 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
}
