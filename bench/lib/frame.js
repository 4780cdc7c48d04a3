// The WebSocket frame the ws-frame variants write: built once per broadcast, written to every socket.

/** One unmasked server-to-client text frame. */
export function textFrame (text) {
  const data = Buffer.from(text)
  const len = data.length
  let hdr
  if (len < 126) {
    hdr = Buffer.allocUnsafe(2)
    hdr[1] = len
  } else if (len < 65536) {
    hdr = Buffer.allocUnsafe(4)
    hdr[1] = 126
    hdr.writeUInt16BE(len, 2)
  } else {
    hdr = Buffer.allocUnsafe(10)
    hdr[1] = 127
    hdr.writeUInt32BE(0, 2)
    hdr.writeUInt32BE(len, 6)
  }
  hdr[0] = 0x81
  return Buffer.concat([hdr, data])
}
