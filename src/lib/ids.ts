/** Schemas of the ids every edge accepts (tenants), shared by the core and the plugins. */
import { Type } from 'typebox'

/** A tenant id as requests and payloads name it. */
export const TenantId = Type.String({ minLength: 1, maxLength: 200, description: 'The tenant to act on.' })
