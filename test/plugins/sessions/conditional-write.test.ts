import t from 'tap'
import { definePlugin, Type, type RealtimeApi } from 'realtime-server'
import { startServer } from 'realtime-server/testing'
import { memoryWriter } from '../../../plugins/sessions/store/memory.js'
import { redisWriter } from '../../../plugins/sessions/store/redis.js'
import type { ConditionalWriter, WritePlan } from '../../../plugins/sessions/store/write-plan.js'
import type { SessionSnapshot } from '../../../plugins/sessions/events.js'

/** A plugin that hands out its API, so the writers run on a real store (memory or Redis) of a real server. */
async function probeApi (t: { teardown: (fn: () => Promise<void>) => void }, redis: boolean): Promise<RealtimeApi> {
  let api: RealtimeApi | undefined
  const probe = definePlugin({ name: 'probe', options: Type.Object({}), setup (app) { api = app.realtime } })
  const server = await startServer({ plugins: [{ plugin: probe }], redis })
  t.teardown(() => server.close())
  return api!
}

const T0 = 1_700_000_000_000
const MINUTE = 60_000

const snapshot = (sessionId: string, seq: number): SessionSnapshot => ({
  sessionId, status: 'running', messageCount: 0, nodeCount: 0, startedAt: 'x', lastEventAt: 'x', seq, recent: []
})

const plan = (sessionId: string, expectedSeq: number, now: number, more: Partial<WritePlan> = {}): WritePlan => ({
  stateKey: `state:${sessionId}`,
  indexKey: 'active',
  sessionId,
  expectedSeq,
  next: snapshot(sessionId, expectedSeq + 1),
  stateTtlMs: MINUTE,
  active: true,
  score: -now,
  activeTtlMs: MINUTE,
  now,
  ...more
})

for (const redis of [false, true]) {
  t.test(`compare-and-set of a session and its index (${redis ? 'redis' : 'memory'})`, async (t) => {
    const api = await probeApi(t, redis)
    const { store } = api
    const writer: ConditionalWriter = api.redis === undefined ? memoryWriter(store) : redisWriter(api.redis)
    const members = async (): Promise<string[]> => (await store.sortedRange('active', -Number.MAX_SAFE_INTEGER, 0)).map((m) => m.member)

    t.equal(await writer.write(plan('a', 0, T0)), true, 'creates a session')
    t.equal(await writer.write(plan('a', 0, T0)), false, 'a second creation of the same session loses')
    t.equal(await writer.write(plan('a', 2, T0)), false, 'a write from a seq that is not the stored one loses')
    t.equal(await writer.write(plan('a', 1, T0)), true, 'a write from the stored seq wins')
    t.equal((await store.get<SessionSnapshot>('state:a'))!.seq, 2, 'the store reads what the writer wrote')

    const results = await Promise.all([1, 2, 3, 4, 5].map(async () => await writer.write(plan('a', 2, T0))))
    t.equal(results.filter(Boolean).length, 1, 'of concurrent writes from one seq, exactly one wins')

    // Index: most recent first; a new session prunes entries idle for longer than activeTtlMs.
    t.equal(await writer.write(plan('b', 0, T0 + MINUTE / 2)), true)
    t.same(await members(), ['b', 'a'])
    t.equal(await writer.write(plan('c', 0, T0 + MINUTE + 1)), true, 'a is stale (idle a minute + 1 ms), b is not')
    t.same(await members(), ['c', 'b'])
    t.equal(await writer.write(plan('b', 1, T0 + MINUTE + 2, { active: false, stateTtlMs: 5 * MINUTE })), true, 'finishing b')
    t.same(await members(), ['c'], 'a finished session leaves the index')
    t.equal((await store.get<SessionSnapshot>('state:b'))!.seq, 2, 'and keeps its state')

    t.equal(await writer.write(plan('d', 0, T0, { stateTtlMs: 0, activeTtlMs: 0 })), true, 'no TTL at all')
    t.same(await members(), ['c', 'd'], 'without activeTtlMs nothing is pruned')
  })
}
