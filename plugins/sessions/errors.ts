/** The error codes of the sessions plugin (listed in its README). */
import { defineError } from 'realtime-server'

export const IllegalTransition = defineError('RT_SESSIONS_ILLEGAL_TRANSITION', 'Session %s refuses %s: %s', 409,
  'A finished session (completed, expired, stopped) accepts no further event, except one session:completed right after ' +
  'session:status-changed to completed. Send events in order, or use a new sessionId for a new run.')

export const WatchRefused = defineError('RT_SESSIONS_FORBIDDEN', 'Not allowed to watch session %s: %s', 403,
  'The access policy (plugins.sessions.options.access) refused this user; use a token that it allows.')

export const SessionNotFound = defineError('RT_SESSIONS_NOT_FOUND', 'Session %s not found', 404,
  'The session received no event yet, or it finished more than finishedTtlMs ago (or was idle longer than activeTtlMs).')

export const UpdateContention = defineError('RT_SESSIONS_CONTENTION', 'Session %s is being updated concurrently; retry', 503,
  'Too many concurrent updates of one session; retry the request.')
