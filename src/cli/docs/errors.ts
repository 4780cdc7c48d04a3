// Generates docs/errors.md, the error catalog, from every defineError() and defineWarning() row.
import type { ErrorDefinition } from '../../lib/errors.js'
import type { WarningDefinition } from '../../lib/warnings.js'

const text = (s: string): string => s.replace(/\|/g, '\\|')

/** docs/errors.md: every error code of the core and the built-in plugins, generated from their definitions. */
export function errorDocs (errors: readonly ErrorDefinition[], warnings: readonly WarningDefinition[] = []): string {
  const core = errors.filter((e) => e.code.startsWith('RT_ERR_')).sort((a, b) => a.code.localeCompare(b.code))
  const plugins = errors.filter((e) => !e.code.startsWith('RT_ERR_')).sort((a, b) => a.code.localeCompare(b.code))
  const table = (list: readonly ErrorDefinition[]): string[] => [
    '| code | status | message | how to fix |',
    '| --- | --- | --- | --- |',
    ...list.map((e) => `| \`${e.code}\` | ${e.statusCode} | ${text(e.message)} | ${text(e.fix)} |`)
  ]
  return [
    '# Errors',
    '',
    'Generated from the `defineError()` calls of the core and the built-in plugins by `npm run generate`',
    '(a test fails when it drifts). `%s` stands for the detail filled in at run time.',
    '',
    'Where errors appear:',
    '- **REST**: the HTTP status, and the body `{ statusCode, error, code, message, field? }`.',
    '- **Socket events**: the ack `{ error: { code, message, field? } }`, or without an ack an `error` event',
    '  `{ code, message, field?, event, timestamp }`.',
    '- **Socket handshake**: `connect_error` with `message` `Authentication failed: ...` and `data` `{ code, reason: \'auth_error\' }`.',
    '- **Start-up**: the message on stderr and exit code 78 (bad configuration, plugin problems, Redis unreachable).',
    '',
    'Errors that are not in this catalog are bugs: they are logged with their stack, and clients only see `RT_ERR_INTERNAL`.',
    '',
    '## Core',
    '',
    ...table(core),
    '',
    '## Plugins',
    '',
    ...table(plugins),
    '',
    '## Start-up warnings',
    '',
    'Logged at `warn` with their `code` when the server starts (and printed by the config check); the server runs.',
    '',
    '| code | message | what to do |',
    '| --- | --- | --- |',
    ...[...warnings].sort((a, b) => a.code.localeCompare(b.code)).map((w) => `| \`${w.code}\` | ${text(w.message)} | ${text(w.fix)} |`),
    ''
  ].join('\n')
}
