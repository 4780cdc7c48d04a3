/**
 * The Lua scripts of the Redis presence store. Each runs atomically in Redis, so every transition (first socket,
 * last socket, end of a debounce, release of a dead node's socket) happens exactly once, whichever node
 * runs it, and the node whose script made it announces it. Times come from the Redis server (`TIME`), so
 * the clocks of the nodes do not matter.
 *
 * Keys, under P = `<redis.keyPrefix>:presence:`:
 * - `P nodes`          sorted set: node id -> lease expiry (ms)
 * - `P node:<id>`      hash: membership field -> {"g": group, "u": userId, "r": [rooms]}, the sockets a node holds
 * - `P n:<g>`          hash: userId -> sockets (0 while the offline is pending); its fields are the online users
 * - `P since:<g>`      hash: userId -> online since (ms)
 * - `P seen:<g>`       hash: userId -> last seen (ms), expiring `lastSeenTtlMs` after its last write
 * - `P r:<g>:<room>`   hash: userId -> sockets in the room
 * - `P pending`        sorted set: `<g>\n<userId>` -> when the offline is due
 * - `P rpending`       sorted set: `<g>\n<room>\n<userId>` -> when the member's departure from the room is due
 *
 * The scripts build key names from their arguments (KEYS is empty), so they need one Redis server (not Redis
 * Cluster). Reads are scripts too: one round trip each, through `realtime.redis.script`.
 */
import type { RedisPrimitives } from 'realtime-server'

const PRELUDE = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

/**
 * The transitions, for the scripts that change memberships. Their last two arguments are the webhook stream
 * (`''`: off) and the wanted event types (`,user.online,member.added,`); an event is queued in the same script
 * as the change that made it, so none is lost or doubled whichever node runs it.
 *
 * A room member's departure is debounced like an offline: the member stays in the room's hash with 0 sockets
 * and an entry in `P rpending` (`<g>\n<room>\n<userId>`) until the delay ends; a socket of the user joining
 * again within it resumes the membership without an event (a page reload).
 */
const TRANSITIONS = `
local W, F = ARGV[#ARGV - 1], ARGV[#ARGV]
local function dec(s)
  return (string.gsub(s, '%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))
end
-- Queues a webhook event of the group's tenant, with the list's namespace in its data.
local function hook(type, g, data, t)
  if W == '' or not string.find(F, ',' .. type .. ',', 1, true) then return end
  local i = string.find(g, ':', 1, true)
  data.namespace = dec(string.sub(g, 1, i - 1))
  rt_webhook(W, type, dec(string.sub(g, i + 1)), data, t)
end
local function room_join(g, r, u, t)
  local rk = P .. 'r:' .. g .. ':' .. r
  local occupied = redis.call('EXISTS', rk)
  local existed = redis.call('HEXISTS', rk, u)
  local n = redis.call('HINCRBY', rk, u, 1)
  if existed == 1 then
    if n == 1 then redis.call('ZREM', P .. 'rpending', g .. '\\n' .. r .. '\\n' .. u) end
    return
  end
  if occupied == 0 then hook('room.occupied', g, { room = dec(r) }, t) end
  hook('member.added', g, { room = dec(r), userId = u }, t)
end
-- The member is gone from the room (its debounce ended, or there was none).
local function member_gone(g, r, u, t)
  local rk = P .. 'r:' .. g .. ':' .. r
  redis.call('HDEL', rk, u)
  hook('member.removed', g, { room = dec(r), userId = u }, t)
  if redis.call('EXISTS', rk) == 0 then hook('room.vacated', g, { room = dec(r) }, t) end
end
-- One socket leaves a room. Returns the debounce when the member's departure is now pending.
local function room_leave(g, r, u, delay, t)
  local rk = P .. 'r:' .. g .. ':' .. r
  local n = redis.call('HINCRBY', rk, u, -1)
  if n > 0 then return nil end
  if n < 0 then
    redis.call('HDEL', rk, u)
    return nil
  end
  if delay > 0 then
    redis.call('ZADD', P .. 'rpending', t + delay, g .. '\\n' .. r .. '\\n' .. u)
    return delay
  end
  member_gone(g, r, u, t)
  return nil
end
-- One socket leaves: its rooms, then the user's count. Returns nil, {1, delay} (pending) or {2, t} (offline now).
local function release(e, delay, ttl, t)
  for _, r in ipairs(e.r) do room_leave(e.g, r, e.u, delay, t) end
  local ck = P .. 'n:' .. e.g
  local n = redis.call('HINCRBY', ck, e.u, -1)
  if n > 0 then return nil end
  if n < 0 then
    redis.call('HDEL', ck, e.u)
    return nil
  end
  local sk = P .. 'seen:' .. e.g
  redis.call('HSET', sk, e.u, t)
  redis.call('PEXPIRE', sk, ttl)
  if delay > 0 then
    redis.call('ZADD', P .. 'pending', t + delay, e.g .. '\\n' .. e.u)
    return {1, delay}
  end
  redis.call('HDEL', ck, e.u)
  redis.call('HDEL', P .. 'since:' .. e.g, e.u)
  hook('user.offline', e.g, { userId = e.u, lastSeen = t }, t)
  return {2, t}
end
`

/** ARGV: P, nodeId, leaseMs. Returns 1 when the lease had lapsed or did not exist. */
const HEARTBEAT = `
local t = now()
local prev = redis.call('ZSCORE', P .. 'nodes', ARGV[2])
redis.call('ZADD', P .. 'nodes', t + tonumber(ARGV[3]), ARGV[2])
if prev and tonumber(prev) >= t then return 0 end
return 1
`

/** ARGV: P, nodeId, field, group, userId, rooms (JSON array), seenTtlMs, W, F. Returns {kind, t}: 1 online, 2 resumed, 0 nothing. Idempotent. */
const CONNECT = `
local nk = P .. 'node:' .. ARGV[2]
if redis.call('HEXISTS', nk, ARGV[3]) == 1 then return {0, 0} end
local g, u = ARGV[4], ARGV[5]
local rooms = cjson.decode(ARGV[6])
redis.call('HSET', nk, ARGV[3], cjson.encode({ g = g, u = u, r = rooms }))
local t = now()
local ck = P .. 'n:' .. g
local existed = redis.call('HEXISTS', ck, u)
local n = redis.call('HINCRBY', ck, u, 1)
local result = {0, t}
if existed == 0 then
  redis.call('HSET', P .. 'since:' .. g, u, t)
  local sk = P .. 'seen:' .. g
  redis.call('HSET', sk, u, t)
  redis.call('PEXPIRE', sk, tonumber(ARGV[7]))
  hook('user.online', g, { userId = u }, t)
  result = {1, t}
elseif n == 1 then
  redis.call('ZREM', P .. 'pending', g .. '\\n' .. u)
  result = {2, t}
end
for _, r in ipairs(rooms) do room_join(g, r, u, t) end
return result
`

/** ARGV: P, nodeId, field, room, +1 (join) or -1 (leave), delayMs, W, F. Returns the debounce when a departure is now pending, else 0. */
const ROOM = `
local nk = P .. 'node:' .. ARGV[2]
local v = redis.call('HGET', nk, ARGV[3])
if not v then return 0 end
local e = cjson.decode(v)
local room, join = ARGV[4], ARGV[5] == '1'
local rooms, found = {}, false
for _, r in ipairs(e.r) do
  if r == room then found = true else table.insert(rooms, r) end
end
if found == join then return 0 end
if join then table.insert(rooms, room) end
e.r = rooms
redis.call('HSET', nk, ARGV[3], cjson.encode(e))
local t = now()
if join then
  room_join(e.g, room, e.u, t)
  return 0
end
return room_leave(e.g, room, e.u, tonumber(ARGV[6]), t) or 0
`

/** ARGV: P, nodeId, field, delayMs, seenTtlMs, W, F. Returns {0} (nothing), {1, dueInMs} (pending) or {2, lastSeen} (offline now). */
const RELEASE = `
local nk = P .. 'node:' .. ARGV[2]
local v = redis.call('HGET', nk, ARGV[3])
if not v then return {0, 0} end
redis.call('HDEL', nk, ARGV[3])
local r = release(cjson.decode(v), tonumber(ARGV[4]), tonumber(ARGV[5]), now())
if r == nil then return {0, 0} end
return r
`

/**
 * ARGV: P, batch, nodeId ('' for any node whose lease expired), delayMs, seenTtlMs, W, F.
 * Releases up to about \`batch\` sockets of one node and drops the node once it holds none. Each socket is
 * taken (HDEL) inside the script, so nodes sweeping at once never release one twice.
 * Returns {} when no node is due, else {node, socketsLeft, g1, u1, t1, g2, ...} with the users now offline.
 */
const REAP = `
local t = now()
local node = ARGV[3]
if node == '' then
  local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', t, 'LIMIT', 0, 1)
  if #dead == 0 then return {} end
  node = dead[1]
end
local nk = P .. 'node:' .. node
local batch = tonumber(ARGV[2])
local fields, cursor = {}, '0'
repeat
  local res = redis.call('HSCAN', nk, cursor, 'COUNT', batch)
  cursor = res[1]
  for _, x in ipairs(res[2]) do table.insert(fields, x) end
until cursor == '0' or #fields >= batch * 2
local out = { node, 0 }
local delay, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 1, #fields, 2 do
  if redis.call('HDEL', nk, fields[i]) == 1 then
    local e = cjson.decode(fields[i + 1])
    local r = release(e, delay, ttl, t)
    if r ~= nil and r[1] == 2 then
      table.insert(out, e.g)
      table.insert(out, e.u)
      table.insert(out, t)
    end
  end
end
local left = redis.call('HLEN', nk)
if left == 0 then redis.call('ZREM', P .. 'nodes', node) end
out[2] = left
return out
`

/**
 * ARGV: P, limit, W, F. Ends the debounces that are due: users still without sockets go offline, room members
 * still without sockets in the room leave it. Returns {nextDueInMs or -1, {g1, u1, lastSeen1, g2, ...}} (the users).
 */
const FINALIZE = `
local t = now()
local limit = tonumber(ARGV[2])
local pk = P .. 'pending'
local due = redis.call('ZRANGEBYSCORE', pk, '-inf', t, 'LIMIT', 0, limit)
local out = {}
for _, m in ipairs(due) do
  redis.call('ZREM', pk, m)
  local i = string.find(m, '\\n', 1, true)
  local g, u = string.sub(m, 1, i - 1), string.sub(m, i + 1)
  local ck = P .. 'n:' .. g
  local n = redis.call('HGET', ck, u)
  if n and tonumber(n) <= 0 then
    redis.call('HDEL', ck, u)
    redis.call('HDEL', P .. 'since:' .. g, u)
    local seen = redis.call('HGET', P .. 'seen:' .. g, u) or tostring(t)
    hook('user.offline', g, { userId = u, lastSeen = tonumber(seen) }, t)
    table.insert(out, g)
    table.insert(out, u)
    table.insert(out, seen)
  end
end
local rp = P .. 'rpending'
for _, m in ipairs(redis.call('ZRANGEBYSCORE', rp, '-inf', t, 'LIMIT', 0, limit)) do
  redis.call('ZREM', rp, m)
  local i = string.find(m, '\\n', 1, true)
  local j = string.find(m, '\\n', i + 1, true)
  local g, r, u = string.sub(m, 1, i - 1), string.sub(m, i + 1, j - 1), string.sub(m, j + 1)
  local n = redis.call('HGET', P .. 'r:' .. g .. ':' .. r, u)
  if n and tonumber(n) <= 0 then member_gone(g, r, u, t) end
end
local nextIn = -1
for _, k in ipairs({ pk, rp }) do
  local nxt = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if #nxt > 0 then
    local d = math.max(0, tonumber(nxt[2]) - t)
    if nextIn < 0 or d < nextIn then nextIn = d end
  end
end
return { nextIn, out }
`

/**
 * ARGV: P, counts key suffix (`n:<g>` or `r:<g>:<room>`), group. The users with sockets (count > 0 for a room)
 * and when they came online. Returns {{u1, n1, u2, n2, ...}, {u1, since1, ...}}.
 */
const COUNTS = `
return { redis.call('HGETALL', P .. ARGV[2]), redis.call('HGETALL', P .. 'since:' .. ARGV[3]) }
`

/** ARGV: P, group, userId... Returns {counts, since, seen}, each a list in the order of the users (nil when unknown). */
const STATUS = `
local g = ARGV[2]
local users = {}
for i = 3, #ARGV do table.insert(users, ARGV[i]) end
return {
  redis.call('HMGET', P .. 'n:' .. g, unpack(users)),
  redis.call('HMGET', P .. 'since:' .. g, unpack(users)),
  redis.call('HMGET', P .. 'seen:' .. g, unpack(users))
}
`

/** ARGV: P, nodeId. Expires the node's lease now, so that the other nodes release its sockets at their next sweep. */
const EXPIRE_LEASE = `
redis.call('ZADD', P .. 'nodes', 0, ARGV[2])
return 1
`

type Field = string | null

/** Where the transition scripts queue webhook events: the stream (`''` when off) and the wanted types (`,a,b,`). */
export interface WebhookTarget {
  readonly stream: string
  readonly types: string
  /** `realtime.webhooks.lua`: defines `rt_webhook`. */
  readonly lua: string
}

/** The scripts, defined once on the server's Redis connection (the prelude is part of each). */
export function defineScripts (redis: RedisPrimitives, webhooks: WebhookTarget) {
  const define = <R>(name: string, body: string) => {
    const run = redis.script<R>(name, { lua: PRELUDE + body, keys: 0 })
    return async (...args: Array<string | number>): Promise<R> => await run([], ...args)
  }
  // The scripts that change memberships get the transitions, and the webhook target as their last two arguments.
  const transition = <R>(name: string, body: string) => {
    const run = redis.script<R>(name, { lua: PRELUDE + webhooks.lua + TRANSITIONS + body, keys: 0 })
    return async (...args: Array<string | number>): Promise<R> => await run([], ...args, webhooks.stream, webhooks.types)
  }
  return {
    heartbeat: define<number>('heartbeat', HEARTBEAT),
    connect: transition<[number, number]>('connect', CONNECT),
    room: transition<number>('room', ROOM),
    release: transition<[number, number]>('release', RELEASE),
    /** `[]`, or `[node, socketsLeft, g1, u1, t1, ...]`. */
    reap: transition<Array<string | number>>('reap', REAP),
    finalize: transition<[number, string[]]>('finalize', FINALIZE),
    counts: define<[string[], string[]]>('counts', COUNTS),
    status: define<[Field[], Field[], Field[]]>('status', STATUS),
    expireLease: define<number>('expireLease', EXPIRE_LEASE)
  }
}
