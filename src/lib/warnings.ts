// Start-up warnings with codes, declared once like errors: what an operator should know before exposing the server.
import { format } from 'node:util'

/** One row of the warning catalog (docs/errors.md lists them). */
export interface WarningDefinition {
  readonly code: string
  readonly message: string
  readonly fix: string
}

/** A warning raised at start-up: logged at `warn` with its code, printed by the config check. */
export interface StartupWarning {
  readonly code: string
  readonly message: string
  /** What to do about it. */
  readonly fix: string
}

const catalog = new Map<string, WarningDefinition>()

/**
 * Declares a warning code (`RT_WARN_*`) with the text that tells an operator what to do; `%s` in the message is
 * filled by the arguments of the returned function.
 *
 * @example
 * const DevSecret = defineWarning('RT_WARN_DEV_JWT_SECRET', 'using the development secret "%s"', 'Set JWT_SECRET.')
 * warnings.push(DevSecret(secret))
 */
export function defineWarning (code: string, message: string, fix: string): (...args: unknown[]) => StartupWarning {
  catalog.set(code, { code, message, fix })
  return (...args) => ({ code, message: format(message, ...args), fix })
}

/** Every warning code defined so far. */
export function warningCatalog (): WarningDefinition[] {
  return [...catalog.values()]
}

export const DevJwtSecret = defineWarning('RT_WARN_DEV_JWT_SECRET',
  'auth.jwt: NO KEY CONFIGURED, using the development secret "%s". Anyone can mint tokens.',
  'Set JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL (auth.jwt) before exposing this server; NODE_ENV=production refuses to start without one.')
export const DevApiKey = defineWarning('RT_WARN_DEV_API_KEY',
  'auth.apiKeys: none configured, REST triggers accept the development key "%s".',
  'Set API_KEYS (auth.apiKeys) before exposing this server; in production no development key is added.')
export const DevLoopback = defineWarning('RT_WARN_DEV_LOOPBACK',
  'server.host: listening on 127.0.0.1 only, because the development secret is in use (anyone reaching the port could mint tokens).',
  'To accept other machines, configure a JWT key (JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL), or set HOST (server.host) explicitly.')
export const TriggerUnreachable = defineWarning('RT_WARN_TRIGGER_NO_CREDENTIAL',
  'trigger %s %s: %s',
  'Set API_KEYS (auth.apiKeys) for the services that call this trigger, or list the role their JWT carries in auth.publishRoles.')
