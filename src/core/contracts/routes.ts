/** The route serving the AsyncAPI document (`docs.asyncapi.path`), built once on first request from what the plugins declared. */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../core.js'
import { asyncapiDocument } from './asyncapi.js'
import { contractsOf } from './registry.js'

/** `GET <docs.asyncapi.path>`: the AsyncAPI 3 document, its servers on the host the request named. */
export function asyncapiRoute (app: FastifyInstance, core: Core): void {
  const documents = new Map<string, unknown>()
  app.get(core.config.docs.asyncapi.path, { schema: { hide: true } as object, logLevel: 'warn' }, async (request) => {
    // Plugins are all set up once the server answers requests; the host only changes the servers' `host`.
    const host = request.host
    let document = documents.get(host)
    if (document === undefined) {
      document = asyncapiDocument(core.config, contractsOf(core), { host })
      if (documents.size < 16) documents.set(host, document)
    }
    return document
  })
}
