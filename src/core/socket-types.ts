// The Socket.IO types of the core: every authenticated socket carries its identity in `socket.data.user`.
import type { Namespace, Server, Socket } from 'socket.io'
import type { Identity } from './auth/tokens.js'

/** What the core keeps on `socket.data` (Socket.IO's `SocketData` generic): set by the handshake, so always present. */
export interface SocketData {
  user: Identity
}

/** Socket.IO's default event maps: event names and payloads are checked at run time, against each plugin's schemas. */
type AnyEvents = Record<string, (...args: any[]) => void>

export type RealtimeServer = Server<AnyEvents, AnyEvents, AnyEvents, SocketData>
export type RealtimeNamespace = Namespace<AnyEvents, AnyEvents, AnyEvents, SocketData>
export type RealtimeSocket = Socket<AnyEvents, AnyEvents, AnyEvents, SocketData>
