import { createHash } from "node:crypto";

// The Lua scripts behind every operation. Each runs atomically on the Redis node that owns the
// pair's hash slot, so a resolve, touch, close or item write is one command and one round trip,
// and no other client can interleave with its read and write.
//
// A session is a hash (KEYS[1]):
//   id       the session id                      created  creation time (ms since epoch)
//   last     last activity (ms)                  timeout  the inactivity timeout of that activity (ms)
//   items    "1" once items may exist in KEYS[2] seq      sessions this key has had
//   b1..b4   the last distinct base ids, newest first
// Liveness is `id present and now < last + timeout` (expiresAt is their sum), decided here,
// never from the key's TTL: the TTL (PEXPIRE, timeout plus a retention period) only collects
// old records. A closed session keeps its record, with last and timeout 0, as a tombstone
// until then, so the next id still differs.
//
// Times travel as decimal strings and are stored as given: Redis formats a Lua number it is
// handed with sprintf, which cost a renewal about a tenth of its server time.
//
// ARGV[1] is always `now` in whole ms, or "" to read the Redis server's clock (TIME) instead.

const clock = `
local now = ARGV[1]
if now == '' then
  local time = redis.call('TIME')
  local micro = time[2]
  now = time[1] .. string.sub(string.rep('0', 6 - #micro) .. micro, 1, 3)
end
local nowMs = tonumber(now)
`;

/** KEYS: session, items. ARGV: now, timeoutMs, forceNew ("1"/"0"), candidate id, ttlMs. Returns {isNew, id, created, last}. */
const resolve = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'created', 'last', 'timeout', 'items')
if record[1] and ARGV[3] ~= '1' and nowMs < tonumber(record[3]) + tonumber(record[4]) then
  redis.call('HSET', KEYS[1], 'last', now, 'timeout', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  if record[5] then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
  return {0, record[1], record[2], now}
end
local candidate = ARGV[4]
local id = candidate
local sequence = 1
local bases = {candidate, '', '', ''}
if record[1] then
  -- The same rule as distinctSessionId in session-core, widened from the previous base id to
  -- the last four distinct ones: with several processes, a candidate stamped a second earlier
  -- can arrive after a newer session and must not reuse that older session's id.
  local history = redis.call('HMGET', KEYS[1], 'seq', 'b1', 'b2', 'b3', 'b4')
  sequence = (tonumber(history[1]) or 1) + 1
  local kept = 1
  for index = 2, 5 do
    local base = history[index]
    if base == candidate then
      id = candidate .. '-' .. sequence
    elseif base and base ~= '' and kept < 4 then
      kept = kept + 1
      bases[kept] = base
    end
  end
  if record[5] then
    redis.call('DEL', KEYS[2])
    redis.call('HDEL', KEYS[1], 'items')
  end
end
redis.call('HSET', KEYS[1], 'id', id, 'created', now, 'last', now, 'timeout', ARGV[2], 'seq', tostring(sequence),
  'b1', bases[1], 'b2', bases[2], 'b3', bases[3], 'b4', bases[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, id, now, now}
`;

/** KEYS: session, items. ARGV: now, timeoutMs, ttlMs. Returns {id, created, last} or nil. */
const touch = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'created', 'last', 'timeout', 'items')
if not record[1] or nowMs >= tonumber(record[3]) + tonumber(record[4]) then return nil end
redis.call('HSET', KEYS[1], 'last', now, 'timeout', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if record[5] then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return {record[1], record[2], now}
`;

/** KEYS: session. ARGV: now. Returns {id, created, last, timeout} or nil. Read-only. */
const get = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'created', 'last', 'timeout')
if not record[1] or nowMs >= tonumber(record[3]) + tonumber(record[4]) then return nil end
return record
`;

/** KEYS: session, items. ARGV: now, sessionId ("" = any). Returns 1 when a live session was ended, else 0. The record stays as a tombstone until its TTL. */
const close = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout', 'items')
if not record[1] or nowMs >= tonumber(record[2]) + tonumber(record[3]) then return 0 end
if ARGV[2] ~= '' and record[1] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'last', '0', 'timeout', '0')
if record[4] then
  redis.call('HDEL', KEYS[1], 'items')
  redis.call('DEL', KEYS[2])
end
return 1
`;

// Items scripts: KEYS session, items; ARGV now, sessionId, …. They act only while sessionId is
// the pair's live session.
const liveSession = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout')
local live = record[1] == ARGV[2] and nowMs < tonumber(record[2]) + tonumber(record[3])
`;

/** ARGV: now, sessionId, item JSON…. Returns 1, or 0 when the session is not live. */
const appendItems = `${liveSession}
if not live then return 0 end
-- unpack() is bounded by the Lua stack, so push long batches in slices.
for first = 3, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
redis.call('HSET', KEYS[1], 'items', '1')
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;

/** ARGV: now, sessionId, limit ("" for all). Returns the items' JSON, oldest first. */
const listItems = `${liveSession}
if not live then return {} end
local limit = tonumber(ARGV[3])
if limit == nil then return redis.call('LRANGE', KEYS[2], 0, -1) end
if limit <= 0 then return {} end
return redis.call('LRANGE', KEYS[2], -limit, -1)
`;

/** ARGV: now, sessionId. Returns the newest item's JSON or nil. */
const popItem = `${liveSession}
if not live then return nil end
return redis.call('RPOP', KEYS[2])
`;

/** ARGV: now, sessionId. Returns 1, or 0 when the session is not live. */
const clearItems = `${liveSession}
if not live then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'items')
return 1
`;

/** A script with its SHA1, the name EVALSHA calls it by. */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/** Every script the store runs. */
export const scripts: {
  readonly resolve: Script;
  readonly touch: Script;
  readonly get: Script;
  readonly close: Script;
  readonly appendItems: Script;
  readonly listItems: Script;
  readonly popItem: Script;
  readonly clearItems: Script;
} = {
  resolve: script("resolve", resolve),
  touch: script("touch", touch),
  get: script("get", get),
  close: script("close", close),
  appendItems: script("items.append", appendItems),
  listItems: script("items.list", listItems),
  popItem: script("items.pop", popItem),
  clearItems: script("items.clear", clearItems),
};
