// WebSocket text frames built once and written as they are: the ws-frame variants' broadcast frame
// (server to client, unmasked) and the load generator's frames (client to server, masked with an
// all-zero key, valid on the wire, so that the client never XORs a payload).

/** One text frame carrying `text`; `masked` adds the (zero) masking key a client must send. */
export function textFrame (text, masked = false) {
  const data = Buffer.from(text)
  const len = data.length
  const key = masked ? 4 : 0
  const maskBit = masked ? 0x80 : 0
  let hdr
  if (len < 126) {
    hdr = Buffer.alloc(2 + key)
    hdr[1] = maskBit | len
  } else if (len < 65536) {
    hdr = Buffer.alloc(4 + key)
    hdr[1] = maskBit | 126
    hdr.writeUInt16BE(len, 2)
  } else {
    hdr = Buffer.alloc(10 + key)
    hdr[1] = maskBit | 127
    hdr.writeUInt32BE(0, 2)
    hdr.writeUInt32BE(len, 6)
  }
  hdr[0] = 0x81 // FIN + text
  return Buffer.concat([hdr, data])
}
