// The pino logger options: level, redaction of tokens and keys, serializers.
import type { FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import type { ServerConfig } from '../config/schema.js'

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

export function loggerOptions (config: ServerConfig, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level: config.server.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(stream === undefined ? {} : { stream })
  }
}
