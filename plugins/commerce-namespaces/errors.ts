/** The error codes of commerce-namespaces (listed with their fixes in README.md). */
import { defineError } from 'realtime-server'

export const CommerceConfigInvalid = defineError('RT_COMMERCE_CONFIG', 'Invalid commerce-namespaces options: %s', 500,
  'Correct the option named in the message: every matrix row must use a namespace of `namespaces`, `ownerRoles` must be among the row\'s `roles`, `*` cannot have `ownerRoles`, and `websocket.path` must not overlap `socketio.path`.')

export const UnknownNamespace = defineError('RT_COMMERCE_UNKNOWN_NAMESPACE', 'Unknown namespace %s', 400,
  'Use one of the namespaces configured in the plugin options (`namespaces`), e.g. `orders`.')

export const BadMessage = defineError('RT_COMMERCE_BAD_MESSAGE', 'Unreadable WebSocket message: %s', 400,
  'Send JSON text such as {"action":"subscribe","namespaces":["orders"]}.')
