import { createHash } from "node:crypto";

// The Lua scripts behind every operation. Each runs atomically on the Redis node that owns the
// pair's hash slot, so a resolve, touch, close or item write is one command and one round trip,
// and no other client can interleave with its read and write.
//
// A session is a hash (KEYS[1]):
//   id       the session id                      created  creation time (ms since epoch)
//   last     last activity (ms)                  timeout  the inactivity timeout of that activity (ms)
//   items    "1" once items may exist in KEYS[2]
// and the pair's id history, which outlives its sessions (see `idHistoryMs`):
//   seq      sessions this key has had           base     the candidate the latest session was made from
//   hw       the latest proposal time (ms, the manager's clock) any session of the key was created
//            with: a high-water mark, never lowered
// Liveness is `id present and now < last + timeout` (expiresAt is their sum), decided here,
// never from the key's TTL: the TTL (PEXPIRE) only collects old records. A closed session keeps
// its record, with last and timeout 0, as a tombstone, so the next id still differs.
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

/**
 * KEYS: session, items. ARGV: now, timeoutMs, forceNew ("1"/"0"), candidate id, record TTL (ms),
 * items TTL (ms), proposal time (the manager's `now`, whole ms). Returns {isNew, id, created, last}.
 */
const resolve = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'created', 'last', 'timeout', 'items')
if record[1] and ARGV[3] ~= '1' and nowMs < tonumber(record[3]) + tonumber(record[4]) then
  redis.call('HSET', KEYS[1], 'last', now, 'timeout', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  if record[5] then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
  return {0, record[1], record[2], now}
end
local candidate = ARGV[4]
local id = candidate
local sequence = 1
local highWater = ARGV[7]
local history = redis.call('HMGET', KEYS[1], 'seq', 'base', 'hw')
if history[1] then
  -- distinctSessionId of session-core, to the letter: suffix the counter when the candidate
  -- equals the previous base id, or when it was proposed in a second no later than the second
  -- of the latest creation (a second session within one second, or a process whose clock lags).
  -- The seconds compared are the manager's (the ones ids are stamped from), whatever the clock
  -- option, so an id of the default formats can never come back while this history lives.
  sequence = tonumber(history[1]) + 1
  local proposedAt = tonumber(ARGV[7])
  -- A record written before the high-water mark existed falls back to its creation time.
  local previousHigh = tonumber(history[3]) or tonumber(record[2]) or 0
  if candidate == history[2] or math.floor(proposedAt / 1000) <= math.floor(previousHigh / 1000) then
    id = candidate .. '-' .. sequence
  end
  if previousHigh > proposedAt then highWater = history[3] or record[2] end
end
if record[5] then
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[1], 'items')
end
redis.call('HSET', KEYS[1], 'id', id, 'created', now, 'last', now, 'timeout', ARGV[2], 'seq', tostring(sequence),
  'base', candidate, 'hw', highWater)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, id, now, now}
`;

/** KEYS: session, items. ARGV: now, timeoutMs, record TTL (ms), items TTL (ms). Returns {id, created, last} or nil. */
const touch = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'created', 'last', 'timeout', 'items')
if not record[1] or nowMs >= tonumber(record[3]) + tonumber(record[4]) then return nil end
redis.call('HSET', KEYS[1], 'last', now, 'timeout', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if record[5] then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
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
// the pair's live session. Reading items needs no script (see items.ts).
const liveSession = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout')
local live = record[1] == ARGV[2] and nowMs < tonumber(record[2]) + tonumber(record[3])
`;

/**
 * ARGV: now, sessionId, items retention (ms), batch token, part, item JSON…. Returns 1, or 0 when
 * the session is not live.
 *
 * A batch too long for one command is sent as several calls of this script in one MULTI/EXEC
 * (parts "first", "next"…, "last"; a batch that fits is one call, part "only"). Nothing runs
 * between the calls of one EXEC, but the server clock may tick between them, so only the first
 * part decides liveness; it leaves the batch's random token in the record and the later parts
 * append only when they find it, so a batch is stored whole or not at all.
 */
const appendItems = `${liveSession}
local part = ARGV[5]
if part == 'only' or part == 'first' then
  if not live then return 0 end
  if part == 'only' then redis.call('HSET', KEYS[1], 'items', '1')
  else redis.call('HSET', KEYS[1], 'items', '1', 'appending', ARGV[4]) end
elseif redis.call('HGET', KEYS[1], 'appending') ~= ARGV[4] then
  return 0
end
-- unpack() is bounded by the Lua stack, so push long parts in slices.
for first = 6, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
if part == 'only' or part == 'first' then
  -- The list lives as long as the session could, plus the items retention.
  redis.call('PEXPIRE', KEYS[2], tonumber(record[2]) + tonumber(record[3]) + tonumber(ARGV[3]) - nowMs)
end
if part == 'last' then redis.call('HDEL', KEYS[1], 'appending') end
return 1
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
  readonly popItem: Script;
  readonly clearItems: Script;
} = {
  resolve: script("resolve", resolve),
  touch: script("touch", touch),
  get: script("get", get),
  close: script("close", close),
  appendItems: script("items.append", appendItems),
  popItem: script("items.pop", popItem),
  clearItems: script("items.clear", clearItems),
};
