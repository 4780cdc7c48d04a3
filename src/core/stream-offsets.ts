import type { Redis } from 'ioredis'

/**
 * @socket.io/redis-streams-adapter (0.3.x) polls with `XREAD BLOCK ... STREAMS <stream> $` until it has
 * read a first entry. `$` means "entries added after this command", so an entry added between a poll
 * that timed out and the next one is never read: on a quiet stream the first broadcasts after start-up
 * can be lost on other nodes. This wrapper gives the adapter's reader connections a concrete offset
 * instead of `$`: the stream's last id when reading starts, then the last id read.
 */
export function withStableStreamOffsets (redis: Redis): Redis {
  return new Proxy(redis, {
    get (target, prop) {
      if (prop === 'duplicate') {
        return (...args: Parameters<Redis['duplicate']>) => stableReader(target.duplicate(...args))
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

type XRead = (...args: Array<string | number>) => Promise<Array<[string, Array<[string, string[]]>]> | null>

function stableReader (client: Redis): Redis {
  const xread = (client.xread as unknown as XRead).bind(client)
  let last: string | undefined
  const patched: XRead = async (...args) => {
    const i = args.indexOf('STREAMS')
    if (i >= 0 && args[i + 2] === '$') {
      if (last === undefined) {
        const top = await client.xrevrange(String(args[i + 1]), '+', '-', 'COUNT', 1)
        last = top[0]?.[0] ?? '0-0'
      }
      args[i + 2] = last
    }
    const result = await xread(...args)
    const entries = result?.[0]?.[1]
    if (entries !== undefined && entries.length > 0) last = entries[entries.length - 1]![0]
    return result
  }
  ;(client as unknown as { xread: XRead }).xread = patched
  return client
}
