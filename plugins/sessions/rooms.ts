/** Every room name the sessions plugin builds (the core scopes each to the tenant). */

/** The room of a session's watchers: `session:join` joins it, the triggers publish into it. */
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`
