/** Options of the sessions plugin. */
import { AccessPolicyOptions, Type, type Static } from 'realtime-server'

export const options = Type.Object({
  namespace: Type.String({
    default: '/messages',
    pattern: '^/',
    description: 'Namespace of the session events; shared with the other plugins of the seed (chat, presence).'
  }),
  access: Type.Union(AccessPolicyOptions.anyOf, {
    default: { mode: 'tenant' },
    description: 'Who may watch a session (session:join, and the REST reads with a user token): tenant | claim | roles | hook.'
  }),
  recentEvents: Type.Integer({
    default: 50,
    minimum: 0,
    maximum: 1000,
    description: 'How many of the last events a session keeps for the snapshot of late joiners.'
  }),
  finishedTtlMs: Type.Integer({
    default: 3_600_000,
    minimum: 1,
    description: 'How long a finished session (completed, expired, stopped) stays readable, in ms after its last event.'
  }),
  activeTtlMs: Type.Integer({
    default: 86_400_000,
    minimum: 0,
    description: 'How long an active session stays without any event before it is dropped, in ms (0: until it finishes).'
  }),
  maxListed: Type.Integer({
    default: 1000,
    minimum: 1,
    maximum: 10_000,
    description: 'Upper bound of `limit` in GET /api/sessions (active sessions of a tenant).'
  })
}, { additionalProperties: false })

export type SessionsOptions = Static<typeof options>
