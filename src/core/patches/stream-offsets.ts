// Patch of @socket.io/redis-streams-adapter 0.3.1: concrete XREAD offsets for its stream readers.
import type { Redis } from 'ioredis'

/**
 * Concrete XREAD offsets for the Redis streams adapter's readers: a workaround for an upstream bug.
 *
 * Upstream (@socket.io/redis-streams-adapter 0.3.1, `dist/adapter.js`, function `startPolling`): the reader
 * starts with `let offset = "$"` and polls `XREAD BLOCK <blockTimeInMs> COUNT <readCount> STREAMS <stream>
 * <offset>` in a loop, replacing `offset` only with the id of an entry it has read. `$` means "entries added
 * after this XREAD is processed", so on a quiet stream:
 *   1. node B polls `XREAD BLOCK t ... $`; nothing arrives within t; Redis answers nil;
 *   2. node A broadcasts: `XADD <stream> MAXLEN ~ n * ...` lands now, while B has no XREAD pending
 *      (B is between the nil answer and its next command: one round trip, longer when B's event loop is busy);
 *   3. node B polls `XREAD BLOCK t ... $` again: `$` is now the entry of step 2, which B never reads.
 * Every broadcast until B reads a first entry can be lost this way; the smaller `blockTimeInMs`, the
 * wider the window. Once B has read one entry its offset is concrete and nothing more is lost. Fix upstream:
 * resolve `$` once (`XREVRANGE <stream> + - COUNT 1`, or `0-0` for an empty stream) before the first poll.
 *
 * package.json pins the adapter to 0.3.1 exactly: this file and cluster-link.ts rely on its internals
 * (`duplicate()` for the readers, the `xread` arguments, `publishAndReturnOffset`); re-check them, and
 * test/core/stream-offsets.test.ts, before an upgrade.
 *
 * This wrapper does that fix from outside, by patching `xread` on the clients the adapter duplicates for
 * reading: the offset is the stream's last id when reading starts, then the last id read (the adapter's
 * own offset is ignored; it would be the same). `ready` is true once every reader has its starting offset
 * (`/ready` waits for it: a node that does not know where it starts reading may miss broadcasts).
 *
 * After a reconnection the offset is checked against the stream once: a Redis restarted without its data
 * (or another Redis behind the same address) starts the stream again, possibly with ids below the last
 * one read, and those would all be skipped; the reader then starts again from `0-0` (every entry of the new
 * stream is new to it). Ids normally grow with Redis's clock, so this only matters when the clock differs.
 */
export class StreamOffsets {
  readonly #readers: number
  #started = 0

  /** `readers`: how many reading clients the adapter creates (its `streamCount`, 1 by default). */
  constructor (readers = 1) {
    this.#readers = readers
  }

  /** Every reader knows where it starts reading. */
  get ready (): boolean { return this.#started >= this.#readers }

  /** Patches `client.xread` (on a client the adapter duplicated; other commands are unchanged). */
  stable (client: Redis): Redis {
    const xread = (client.xread as unknown as XRead).bind(client)
    let last: string | undefined
    let reconnected = false
    client.on('ready', () => { if (last !== undefined) reconnected = true })
    const patched: XRead = async (...args) => {
      const i = args.indexOf('STREAMS')
      if (i >= 0) {
        const stream = String(args[i + 1])
        if (last === undefined) {
          last = await lastId(client, stream)
          this.#started++
        } else if (reconnected) {
          reconnected = false
          if (compareIds(await lastId(client, stream), last) < 0) last = '0-0'
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
}

type XRead = (...args: Array<string | number>) => Promise<Array<[string, Array<[string, string[]]>]> | null>

async function lastId (client: Redis, stream: string): Promise<string> {
  const top = await client.xrevrange(stream, '+', '-', 'COUNT', 1)
  return top[0]?.[0] ?? '0-0'
}

/** Orders two stream ids `<ms>-<seq>`. */
export function compareIds (a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am !== bm ? am - bm : as - bs
}
