// The config the contract tests use: every built-in plugin and the third-party example, and the trigger routes they declare (from their routes.ts).

/** Every built-in plugin with its defaults, and examples/hello-plugin loaded from its path. */
export const allPlugins = {
  'tenant-broadcast': {},
  presence: {},
  sessions: {},
  'chat-messages': {},
  'commerce-namespaces': {},
  hello: { from: './examples/hello-plugin' }
}

/** The REST triggers of those plugins, as their routes.ts declare them. */
export const triggerRoutes: ReadonlyArray<{ method: string, url: string }> = [
  { method: 'POST', url: '/api/tenant-broadcast/events' },
  { method: 'POST', url: '/api/tenant-broadcast/events/batch' },
  { method: 'GET', url: '/api/tenant-broadcast/events' },
  { method: 'GET', url: '/api/tenant-broadcast/stats' },
  { method: 'GET', url: '/api/presence/online' },
  { method: 'GET', url: '/api/presence/users/:userId' },
  { method: 'POST', url: '/api/presence/status' },
  { method: 'POST', url: '/api/commerce-namespaces/events' },
  { method: 'POST', url: '/api/sessions/message-sent' },
  { method: 'POST', url: '/api/sessions/node-executed' },
  { method: 'POST', url: '/api/sessions/status-changed' },
  { method: 'POST', url: '/api/sessions/completed' },
  { method: 'GET', url: '/api/sessions/:sessionId' },
  { method: 'GET', url: '/api/sessions/' },
  { method: 'GET', url: '/api/chat-messages/channels/:channelId/messages' },
  { method: 'POST', url: '/api/chat-messages/message-received' },
  { method: 'POST', url: '/api/chat-messages/message-status' },
  { method: 'POST', url: '/api/hello/announce' }
]
