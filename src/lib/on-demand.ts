// Packages that only some configurations use are loaded where first needed, not at start-up: a server without
// Redis never loads ioredis or the streams adapter, one without a JWKS URL never loads get-jwks (and its
// elliptic-curve libraries), one without webhook endpoints never loads standardwebhooks. Each is CommonJS, so a
// synchronous require keeps the callers synchronous. Type imports of them stay static (they cost nothing at run time).
import { createRequire } from 'node:module'

/** `require` for the packages above; the caller names the module's type: `onDemand('ioredis') as typeof import('ioredis')`. */
export const onDemand = createRequire(import.meta.url)
