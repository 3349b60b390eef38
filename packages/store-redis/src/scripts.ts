import { createHash } from "node:crypto";
import { MAX_OPERATIONS_PER_SESSION as MAX_OPERATIONS } from "@threadline/session-core/store-kit";

// The Lua scripts behind every operation. Each runs atomically on the Redis node that owns the
// pair's hash slot, so a resolve, touch, close, forget or item write is one command and one round
// trip, and no other client can interleave with its read and write.
//
// A session is a hash (KEYS[1]):
//   id       the session id                      created  creation time (ms since epoch)
//   last     last activity (ms)                  timeout  ms from `last` to the session's expiry:
//                                                         the inactivity timeout, capped by `dl`
//   turns    resolves that returned it           dl       createdAt + maxDuration (absent: none)
//   prev     previousSessionId (absent: none)    items    what the session may have beside it: "1" items
//                                                         (items list, operations hash), "2" run records,
//                                                         "3" both; absent: neither
//   tot      the session's run totals (see runs below), only once it has runs
//   cu, cs   carry-over: until when (ms) the items list holds the ended session `cs`'s items for the
//            pair's next session (carryOverMs); only on a tombstone
// and the pair's id history, which outlives its sessions (see `idHistoryMs`):
//   seq      sessions this key has had           base     the candidate the latest session was made from
//   hw       the latest proposal time (ms, the manager's clock) any session of the key was created
//            with: a high-water mark, never lowered
// Liveness is `id present and now < last + timeout` (expiresAt is their sum), decided here,
// never from the key's TTL: the TTL (PEXPIRE) only collects old records. Storing the timeout
// already capped by the deadline keeps that rule (and every reader of it) unchanged.
//
// A session whose end has been claimed is a tombstone: `last` and `timeout` are 0 (never live,
// and not an unclaimed expiry), `end` is the reason and `endAt` when it ended; the id history
// stays, so the next id differs. An end is claimed exactly once, inside the script that ends it:
// resolve (replaced, max-turns, or a time end nobody claimed), close, forget, or a sweep's claim.
// A claimed end within its retention goes to the pair's history list (KEYS[3]) as JSON,
// `[keepUntil, id, created, last, expiresAt, turns, prev|null, reason, endedAt]`, newest first,
// at most MAX_HISTORY entries, pruned from the tail, with a TTL to its newest keepUntil; the
// session hash's TTL is raised to outlive it.
//
// The expiry index (a sorted set shared by the pairs of a slot, see keys.ts) holds each pair's
// hash tag scored with the expiry of its session at creation. Renewals do not touch it: the
// sweep re-scores an entry whose session was renewed when it finds it due.
//
// TTLs slide lazily: a renewal sets the record's (and the items') TTL only when its `now` falls in
// another RENEWAL_PERIOD_MS period than the previous activity (`last`), and then to the TTL plus one
// period. The first activity of every period sets it, so at any renewal the key still lives at
// least the TTL from then (it was set less than a period ago, a period longer). No writer ever
// shortens an items TTL (they only raise it), which keeps that true for the items too. A renewal
// within a period saves its PEXPIREs, about a tenth of its server time; keys live up to one
// period longer than their TTL.
//
// Times travel as decimal strings and are stored as given: Redis formats a Lua number it is
// handed with sprintf, which cost a renewal about a tenth of its server time.
//
// Run records (runs.add) live in one hash per session, {keyPrefix}r:{<tag>}<sessionId> (see keys.ts):
//   t       the totals, "<runs> <inputTokens> <outputTokens> <totalTokens> <toolCalls> <handoffs>
//           <errors>", then " =<lastAgent>" when known
//   l       the sequence number of the oldest record kept (a record's sequence is `runs` when added)
//   <seq>   a record: "<byte length of its run id>:<run id><JSON>"
//   =<id>   the sequence of the kept run with that id (what makes an add idempotent)
//   k       keepUntil, once the session ended (absent while it is live)
// While the session is live the record's `items` flag says it has runs and `tot` copies `t`, so a
// resolve hit reads the totals (and slides the runs hash's TTL with the record's) only when there
// are some, and listing reads them with the record's other fields. The claim that ends it copies
// the totals into its history entry (a tenth element) and gives the runs hash the entry's TTL; a
// late run updates both. Run hashes are reached from the record's and the history's session ids,
// keys a script derives rather than declares (same hash tag, so same slot).
//
// ARGV[1] is always `now` in whole ms, or "" to read the Redis server's clock (TIME) instead.

/** Most ended sessions one pair keeps in history (session-core's MAX_HISTORY_PER_USER). */
export const MAX_HISTORY = 1000;

/** TTLs slide once per period of this many ms (see above); the store adds it to every TTL it sends. */
export const RENEWAL_PERIOD_MS = 60_000;

const clock = `
local now = ARGV[1]
if now == '' then
  local time = redis.call('TIME')
  local micro = time[2]
  now = time[1] .. string.sub(string.rep('0', 6 - #micro) .. micro, 1, 3)
end
local nowMs = tonumber(now)
`;

// The run hash of session `sid` of the pair whose record is `s` (see above).
const runsKit = `
local function runsKey(s, sid)
  local head, tag = string.match(s, '^(.*)s:({[^{}]*})$')
  return head .. 'r:' .. tag .. sid
end
`;

// What a claim needs, for the scripts that end sessions. `r` is an HMGET of RECORD_FIELDS of the
// session hash `s`. `ending` returns the end as the reply carries it: {reason, endedAt, id,
// created, last, expiresAt, turns, prev|false, totals|false}. `keep` puts it in the history list
// `h` for `retention` ms (with its run hash) and makes the history and the session hash `s` live
// at least as long. `tombstone` marks the claim.
const claim = `${runsKit}
local function int(value) return string.format('%d', value) end
local function ending(s, r, reason, endedAt)
  local totals = false
  if r[5] == '2' or r[5] == '3' then totals = redis.call('HGET', s, 'tot') or false end
  return {reason, endedAt, r[1], r[2], r[3], int(tonumber(r[3]) + tonumber(r[4])), r[6] or '1', r[8] or false, totals}
end
local function timeEnd(s, r)
  local expires = tonumber(r[3]) + tonumber(r[4])
  if r[7] and expires >= tonumber(r[7]) then return ending(s, r, 'max-duration', int(expires)) end
  return ending(s, r, 'expired', int(expires))
end
-- A history entry leaving the list takes its session's run hash with it.
local function dropEntry(s, entry)
  if string.sub(entry, -2) == '"]' then redis.call('DEL', runsKey(s, cjson.decode(entry)[2])) end
end
local function keep(s, h, e, retention)
  local keepUntil = tonumber(e[2]) + retention
  if keepUntil <= nowMs then
    if e[9] then redis.call('DEL', runsKey(s, e[3])) end
    return
  end
  local prev = 'null'
  if e[8] then prev = cjson.encode(e[8]) end
  local totals = ''
  if e[9] then totals = ',' .. cjson.encode(e[9]) end
  local entry = '[' .. int(keepUntil) .. ',' .. cjson.encode(e[3]) .. ',' .. e[4] .. ',' .. e[5] .. ',' .. e[6] .. ',' ..
    e[7] .. ',' .. prev .. ',"' .. e[1] .. '",' .. e[2] .. totals .. ']'
  if redis.call('LPUSH', h, entry) > ${MAX_HISTORY} then
    for _, dropped in ipairs(redis.call('LRANGE', h, ${MAX_HISTORY}, -1)) do dropEntry(s, dropped) end
    redis.call('LTRIM', h, 0, ${MAX_HISTORY - 1})
  end
  -- Drop the oldest entries past their retention (retentions may differ between managers, so
  -- one behind a longer-kept entry waits; listing checks keepUntil itself).
  while true do
    local oldest = redis.call('LINDEX', h, -1)
    if not oldest or tonumber(string.match(oldest, '^%[(%d+)')) > nowMs then break end
    redis.call('RPOP', h)
    dropEntry(s, oldest)
  end
  local ttl = keepUntil - nowMs
  if redis.call('PTTL', h) < ttl then redis.call('PEXPIRE', h, int(ttl)) end
  if redis.call('PTTL', s) < ttl then redis.call('PEXPIRE', s, int(ttl)) end
  if e[9] then
    local runs = runsKey(s, e[3])
    redis.call('HSET', runs, 'k', int(keepUntil))
    redis.call('PEXPIRE', runs, int(ttl))
  end
end
-- Ends the session in its record. Its items (list i, operations o) go, unless carry-over keeps
-- the list for the pair's next session until endedAt + carryMs (cu, cs in the record); its runs
-- went with the end (see keep).
local function tombstone(s, i, o, r, e, carryMs)
  redis.call('HSET', s, 'last', '0', 'timeout', '0', 'end', e[1], 'endAt', e[2])
  if r[5] then
    redis.call('HDEL', s, 'items', 'tot')
    local carryFor = tonumber(e[2]) + carryMs - nowMs
    if carryMs > 0 and carryFor > 0 and redis.call('EXISTS', i) == 1 then
      redis.call('HSET', s, 'cu', int(nowMs + carryFor), 'cs', r[1])
      redis.call('PEXPIRE', i, int(carryFor))
      if redis.call('PTTL', s) < carryFor then redis.call('PEXPIRE', s, int(carryFor)) end
      redis.call('DEL', o)
    else
      redis.call('DEL', i, o)
    end
  end
end
`;

// For a script that already has the runs kit (resolve's hit path needs it before the claim).
const claimOnly = claim.slice(runsKit.length);

/** The session fields the lifecycle scripts read, in the order `claim` expects. */
const RECORD_FIELDS = "'id', 'created', 'last', 'timeout', 'items', 'turns', 'dl', 'prev'";

/**
 * KEYS: session, items, operations, history, expiry index, forgotten. ARGV: now, timeoutMs, turn
 * limit ("new" for forceNew, "" for no maxTurns, else maxTurns), candidate id, record TTL (ms),
 * items TTL (ms), and what only a creation reads, as one string: "<proposal time> <retention>
 * <maxDuration> <carryOver>" (the proposal time is the manager's `now` in whole ms; maxDuration
 * empty for none). Every argument costs the hit path (Redis makes a Lua string of each), so the
 * hit path gets only what it reads.
 * Returns {0, id, created, last, timeout, turns, prev|false[, totals]} on a renewal (totals only
 * when the session has runs); a creation adds the end
 * it claimed (its nine fields, see `claim`, as one nested array, or false) and the carried items
 * (the ended session's id, or false, then its items as stored).
 */
const resolve = `${clock}${runsKit}
local r = redis.call('HMGET', KEYS[1], ${RECORD_FIELDS})
local cause
if r[1] and nowMs < tonumber(r[3]) + tonumber(r[4]) then
  local turns = tonumber(r[6]) or 1
  local limit = ARGV[3]
  if limit == '' or (limit ~= 'new' and turns < tonumber(limit)) then
    -- The hit path: renew, one more turn. Nothing else is read or written.
    local timeout = ARGV[2]
    if r[7] then
      local left = tonumber(r[7]) - nowMs
      if left < tonumber(timeout) then timeout = string.format('%d', left) end
    end
    turns = tostring(turns + 1)
    -- The timeout changes only when a manager's option changes or the deadline nears.
    if timeout == r[4] then redis.call('HSET', KEYS[1], 'last', now, 'turns', turns)
    else redis.call('HSET', KEYS[1], 'last', now, 'timeout', timeout, 'turns', turns) end
    if math.floor(nowMs / ${RENEWAL_PERIOD_MS}) ~= math.floor(tonumber(r[3]) / ${RENEWAL_PERIOD_MS}) then
      redis.call('PEXPIRE', KEYS[1], ARGV[5])
      if r[5] and r[5] ~= '2' then
        redis.call('PEXPIRE', KEYS[2], ARGV[6])
        redis.call('PEXPIRE', KEYS[3], ARGV[6])
      end
      if r[5] and r[5] ~= '1' then redis.call('PEXPIRE', runsKey(KEYS[1], r[1]), ARGV[5]) end
    end
    -- The totals only when the session has runs: one more field read, only then.
    if r[5] and r[5] ~= '1' then
      return {0, r[1], r[2], now, timeout, turns, r[8] or false, redis.call('HGET', KEYS[1], 'tot')}
    end
    return {0, r[1], r[2], now, timeout, turns, r[8] or false}
  end
  if limit == 'new' then cause = 'replaced' else cause = 'max-turns' end
end
${claimOnly}
local proposal, retention, maxDuration, carryMs = string.match(ARGV[7], '^(%d+) (%d+) (%d*) (%d+)$')
local proposedAt = tonumber(proposal)
retention = tonumber(retention)
carryMs = tonumber(carryMs)
local tag = string.match(KEYS[1], '{([^{}]*)}$')
local ended = false
local previous = false
local history = redis.call('HMGET', KEYS[1], 'seq', 'base', 'hw', 'endAt', 'cu', 'cs')
if cause then
  ended = ending(KEYS[1], r, cause, now)
elseif r[1] and r[4] ~= '0' then
  ended = timeEnd(KEYS[1], r) -- expired, and nobody claimed its end yet: this call does
elseif r[1] and history[4] and nowMs < tonumber(history[4]) + retention then
  previous = r[1] -- ended (and claimed) within the retention
end
-- Carry-over: the items of the session this call ended, or of the one a close or sweep ended and
-- kept them for, go to the new session once.
local carried = false
if ended then
  previous = r[1]
  keep(KEYS[1], KEYS[4], ended, retention)
  if r[5] and r[5] ~= '2' and carryMs > 0 and tonumber(ended[2]) + carryMs > nowMs then carried = r[1] end
elseif history[5] and nowMs < tonumber(history[5]) then
  carried = history[6]
end
local candidate = ARGV[4]
local id = candidate
local sequence = 1
local highWater = proposal
local previousHigh
if history[1] then
  sequence = tonumber(history[1]) + 1
  -- A record written before the high-water mark existed falls back to its creation time.
  previousHigh = history[3] or r[2] or '0'
  if candidate == history[2] then id = candidate .. '-' .. sequence end
elseif not r[1] then
  -- A pair the store holds nothing of may have been forgotten in this second: continue after
  -- every forgotten pair's sequence of this slot, as session-core's memory store does.
  local forgotten = redis.call('HMGET', KEYS[6], 'hw', 'seq')
  if forgotten[1] then
    previousHigh = forgotten[1]
    if math.floor(proposedAt / 1000) <= math.floor(tonumber(previousHigh) / 1000) then
      sequence = tonumber(forgotten[2]) + 1
    end
  end
end
if previousHigh then
  -- distinctSessionId of session-core, to the letter: suffix the counter when the candidate
  -- equals the previous base id, or when it was proposed in a second no later than the second
  -- of the latest creation (a second session within one second, or a process whose clock lags).
  -- The seconds compared are the manager's (the ones ids are stamped from), whatever the clock
  -- option, so an id of the default formats can never come back while this history lives.
  if math.floor(proposedAt / 1000) <= math.floor(tonumber(previousHigh) / 1000) then
    id = candidate .. '-' .. sequence
  end
  if tonumber(previousHigh) > proposedAt then highWater = previousHigh end
end
local timeout = ARGV[2]
-- The fields the hit path reads first: a small hash is a list Redis scans from its head.
local fields = {'id', id, 'created', now, 'last', now, 'timeout', timeout, 'turns', '1', 'seq', tostring(sequence),
  'base', candidate, 'hw', highWater}
local stale = {'items', 'tot', 'end', 'endAt', 'cu', 'cs'}
if maxDuration ~= '' then
  if tonumber(maxDuration) < tonumber(timeout) then timeout = maxDuration end
  fields[8] = timeout
  fields[#fields + 1] = 'dl'
  fields[#fields + 1] = int(nowMs + tonumber(maxDuration))
else
  stale[#stale + 1] = 'dl'
end
if previous then
  fields[#fields + 1] = 'prev'
  fields[#fields + 1] = previous
else
  stale[#stale + 1] = 'prev'
end
local reply = {1, id, now, now, timeout, '1', previous, ended, carried}
if carried then
  local items = redis.call('LRANGE', KEYS[2], 0, -1)
  if #items == 0 then reply[9] = false end
  for index = 1, #items do reply[9 + index] = items[index] end
end
-- A new session starts with no items (nor an orphan list of a record that expired before them).
if r[5] or history[5] or not r[1] then redis.call('DEL', KEYS[2], KEYS[3]) end
if r[1] then redis.call('HDEL', KEYS[1], unpack(stale)) end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[5], int(nowMs + tonumber(timeout)), tag)
return reply
`;

/**
 * KEYS: session, items, operations. ARGV: now, timeoutMs, record TTL (ms), items TTL (ms).
 * Returns {id, created, last, timeout, turns, prev|false, totals|false} or nil. Never shortens a
 * TTL (the record may be holding history for a retention this call does not know).
 */
const touch = `${clock}${runsKit}
local r = redis.call('HMGET', KEYS[1], ${RECORD_FIELDS})
if not r[1] or nowMs >= tonumber(r[3]) + tonumber(r[4]) then return nil end
local timeout = ARGV[2]
if r[7] then
  local left = tonumber(r[7]) - nowMs
  if left < tonumber(timeout) then timeout = string.format('%d', left) end
end
redis.call('HSET', KEYS[1], 'last', now, 'timeout', timeout)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if r[5] and r[5] ~= '2' and redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
local totals = false
if r[5] and r[5] ~= '1' then
  totals = redis.call('HGET', KEYS[1], 'tot') or false
  local runs = runsKey(KEYS[1], r[1])
  if redis.call('PTTL', runs) < tonumber(ARGV[3]) then redis.call('PEXPIRE', runs, ARGV[3]) end
end
return {r[1], r[2], now, timeout, r[6] or '1', r[8] or false, totals}
`;

/** KEYS: session. ARGV: now. Returns {id, created, last, timeout, turns, prev|false, totals|false} or nil. Read-only. */
const get = `${clock}
local r = redis.call('HMGET', KEYS[1], 'id', 'created', 'last', 'timeout', 'turns', 'prev', 'tot')
if not r[1] or nowMs >= tonumber(r[3]) + tonumber(r[4]) then return nil end
return {r[1], r[2], r[3], r[4], r[5] or '1', r[6] or false, r[7] or false}
`;

/**
 * KEYS: session, items, operations, history, expiry index. ARGV: now, sessionId ("" = any),
 * retention (ms), the pair's hash tag, carry-over (ms). Returns the end it claimed (reason "closed") or nil when no live session
 * (or not that one) was there. The record stays as a tombstone until its TTL.
 */
const close = `${clock}
local r = redis.call('HMGET', KEYS[1], ${RECORD_FIELDS})
if not r[1] or nowMs >= tonumber(r[3]) + tonumber(r[4]) then return nil end
if ARGV[2] ~= '' and r[1] ~= ARGV[2] then return nil end
${claim}
local e = ending(KEYS[1], r, 'closed', now)
tombstone(KEYS[1], KEYS[2], KEYS[3], r, e, tonumber(ARGV[5]))
keep(KEYS[1], KEYS[4], e, tonumber(ARGV[3]))
redis.call('ZREM', KEYS[5], ARGV[4])
return e
`;

/**
 * KEYS: session, items, operations, history, expiry index, forgotten. ARGV: now, the pair's hash tag.
 * Deletes every key of the pair and its index entry, and folds its id history into the slot's
 * forgotten marks (so a pair that comes back within the same second gets a new id). Returns
 * {removed} or {removed, the end's nine fields}: the live session ends "forgotten"; an expired one
 * nobody claimed ends by time.
 */
const forget = `${clock}
local r = redis.call('HMGET', KEYS[1], ${RECORD_FIELDS})
${claim}
local reply = {0}
if r[1] and r[4] ~= '0' then
  local e
  if nowMs < tonumber(r[3]) + tonumber(r[4]) then e = ending(KEYS[1], r, 'forgotten', now) else e = timeEnd(KEYS[1], r) end
  reply[1] = 1
  for index = 1, 9 do reply[1 + index] = e[index] end
end
-- Run hashes: the record's session's and every history entry's.
if r[1] then redis.call('DEL', runsKey(KEYS[1], r[1])) end
for _, entry in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  if tonumber(string.match(entry, '^%[(%d+)')) > nowMs then reply[1] = reply[1] + 1 end
  redis.call('DEL', runsKey(KEYS[1], cjson.decode(entry)[2]))
end
local history = redis.call('HMGET', KEYS[1], 'seq', 'hw', 'created')
if history[1] then
  local forgotten = redis.call('HMGET', KEYS[6], 'hw', 'seq')
  local highWater = tonumber(history[2] or history[3] or '0')
  if forgotten[1] and tonumber(forgotten[1]) > highWater then highWater = tonumber(forgotten[1]) end
  local sequence = tonumber(history[1])
  if forgotten[2] and tonumber(forgotten[2]) > sequence then sequence = tonumber(forgotten[2]) end
  redis.call('HSET', KEYS[6], 'hw', int(highWater), 'seq', int(sequence))
  -- As long as the pair's own id history would have lived.
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 and redis.call('PTTL', KEYS[6]) < ttl then redis.call('PEXPIRE', KEYS[6], ttl) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[2])
return reply
`;

/**
 * The sweep's claim, for a batch of index entries of one slot. KEYS: expiry index, then session,
 * items, operations, history of each pair. ARGV: now, retention (ms), carry-over (ms), then each
 * pair's hash tag. For each pair:
 * an expired session nobody claimed is claimed (time end, history, tombstone) and leaves the
 * index; a live one (renewed since it was indexed) is re-scored to its expiry; anything else (gone,
 * already ended) leaves the index. Returns, per claimed end, {tag, the end's nine fields}.
 */
const sweep = `${clock}
${claim}
local retention = tonumber(ARGV[2])
local carryMs = tonumber(ARGV[3])
local claimed = {}
for n = 4, #ARGV do
  local tag = ARGV[n]
  local base = (n - 4) * 4 + 1
  local s, i, o, h = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4]
  local r = redis.call('HMGET', s, ${RECORD_FIELDS})
  if not r[1] or r[4] == '0' then
    redis.call('ZREM', KEYS[1], tag)
  else
    local expires = tonumber(r[3]) + tonumber(r[4])
    if nowMs < expires then
      redis.call('ZADD', KEYS[1], int(expires), tag)
    else
      local e = timeEnd(s, r)
      tombstone(s, i, o, r, e, carryMs)
      keep(s, h, e, retention)
      redis.call('ZREM', KEYS[1], tag)
      claimed[#claimed + 1] = tag
      for index = 1, 9 do claimed[#claimed + 1] = e[index] end
    end
  end
end
return claimed
`;

// Items scripts: KEYS session, items, operations; ARGV now, sessionId, items retention (ms), ….
// They act only while sessionId is the pair's live session. Reading items needs no script (see
// items.ts).
//
// The items list holds each item's JSON text; an item that continues the group of the one before
// it carries a "+" in front (JSON text never starts with one), so a group's first item is stored as
// is. The operations hash beside it holds what keeps changes O(new items): "#b" the total bytes of
// the items (as stored, without the "+"), "#gn"/"#gb" the items and bytes of the newest group (a
// cache: absent when unknown, then found by walking back from the end), "#n" a counter of
// operations, and one field ":<operation id>" = "<counter> <fingerprint>" per remembered operation.
const liveSession = `${clock}
local record = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout', 'items')
-- The items flag with items added (keeping a runs mark, see the record's fields).
local withItems = '1'
if record[4] == '2' or record[4] == '3' then withItems = '3' end
local live = record[1] == ARGV[2] and nowMs < tonumber(record[2]) + tonumber(record[3])
`;

const itemKit = `
local function int(value) return string.format('%d', value) end
local function continues(text) return string.byte(text, 1) == 43 end
local function size(text) if continues(text) then return #text - 1 end return #text end
-- Items and bytes of the group that ends at index 'last' (0-based), walking back to its first item.
local function groupBefore(last)
  local count, bytes = 0, 0
  while last >= 0 do
    local from = math.max(0, last - 63)
    local chunk = redis.call('LRANGE', KEYS[2], from, last)
    for k = #chunk, 1, -1 do
      count = count + 1
      bytes = bytes + size(chunk[k])
      if not continues(chunk[k]) then return count, bytes end
    end
    last = from - 1
  end
  return count, bytes
end
local function totalOf(stored, length)
  if stored then return tonumber(stored) end
  local total = 0 -- a list written before the total was kept
  if length > 0 then for _, text in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do total = total + size(text) end end
  return total
end
-- The items live while the session can, plus the retention and a renewal period; never shortened.
local function keepItems()
  local ttl = tonumber(record[2]) + tonumber(record[3]) + tonumber(ARGV[3]) + ${RENEWAL_PERIOD_MS} - nowMs
  if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], int(ttl)) end
  if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], int(ttl)) end
end
`;

/**
 * One atomic change (items.apply). ARGV: now, sessionId, items retention (ms), ":<operation id>"
 * or "", fingerprint, kind ("append", "append+" to continue the newest group, "suffix", "all"),
 * maxItems ("" for none), maxItemBytes ("" for none), suffix length n, the n expected suffix
 * texts, the new texts. Returns {"ok", applied (0/1), trimmed}, {"ended"}, {"conflict"},
 * {"mismatch"} or {"too-large", items, bytes}; every answer but "ok" with applied 1 changed nothing.
 */
const applyItems = `${liveSession}
if not live then return {'ended'} end
${itemKit}
local operation = ARGV[4]
local meta = redis.call('HMGET', KEYS[3], '#b', '#gn', '#gb', '#n', operation == '' and '#none' or operation)
if meta[5] then
  if string.match(meta[5], ' (.*)$') == ARGV[5] then return {'ok', 0, 0} end
  return {'conflict'}
end
local kind = ARGV[6]
local maxItems = tonumber(ARGV[7]) or math.huge
local maxBytes = tonumber(ARGV[8]) or math.huge
local suffixLength = tonumber(ARGV[9])
local first = 10 + suffixLength
local length = redis.call('LLEN', KEYS[2])
local total = totalOf(meta[1], length)
local keepFrom, joins, dropped = length, false, 0
if kind == 'all' then
  keepFrom, dropped = 0, total
elseif kind == 'suffix' then
  keepFrom = length - suffixLength
  if keepFrom < 0 then return {'mismatch'} end
  if suffixLength > 0 then
    local tail = redis.call('LRANGE', KEYS[2], keepFrom, -1)
    for k = 1, suffixLength do
      local text = tail[k]
      if not text then return {'mismatch'} end
      if continues(text) then text = string.sub(text, 2) end
      if text ~= ARGV[9 + k] then return {'mismatch'} end
      dropped = dropped + #text
    end
    joins = keepFrom > 0 and continues(tail[1])
  end
elseif kind == 'append+' then
  joins = length > 0
end
-- The group this change writes: its new items and, when it joins one, that group's kept part.
local count, bytes = #ARGV - first + 1, 0
for k = first, #ARGV do bytes = bytes + #ARGV[k] end
local joinedCount, joinedBytes = 0, 0
if joins then
  if kind == 'append+' and meta[2] then joinedCount, joinedBytes = tonumber(meta[2]), tonumber(meta[3])
  else joinedCount, joinedBytes = groupBefore(keepFrom - 1) end
end
if count + joinedCount > maxItems or bytes + joinedBytes > maxBytes then
  return {'too-large', count + joinedCount, bytes + joinedBytes}
end
if keepFrom == 0 then
  if length > 0 then redis.call('DEL', KEYS[2]) end
elseif keepFrom < length then
  redis.call('LTRIM', KEYS[2], 0, keepFrom - 1)
end
total = total - dropped
length = keepFrom
local newest = false -- {items, bytes} of the newest group afterwards, false when unknown
if count > 0 then
  local texts = {}
  for k = first, #ARGV do
    if k > first or joins then texts[#texts + 1] = '+' .. ARGV[k] else texts[#texts + 1] = ARGV[k] end
  end
  -- unpack() is bounded by the Lua stack, so push in slices.
  for from = 1, #texts, 1000 do redis.call('RPUSH', KEYS[2], unpack(texts, from, math.min(from + 999, #texts))) end
  length = length + count
  total = total + bytes
  newest = {count + joinedCount, bytes + joinedBytes}
elseif kind == 'append' or kind == 'append+' then
  if meta[2] then newest = {tonumber(meta[2]), tonumber(meta[3])} end
elseif joins then
  newest = {joinedCount, joinedBytes}
end
-- Trim whole groups from the front until within the bounds.
local head, chunk, chunkFrom = 0, nil, 0
local function at(index)
  if not chunk or index >= chunkFrom + #chunk then
    chunk = redis.call('LRANGE', KEYS[2], index, index + 127)
    chunkFrom = index
  end
  return chunk[index - chunkFrom + 1]
end
while length - head > maxItems or total > maxBytes do
  repeat
    total = total - size(at(head))
    head = head + 1
  until head == length or not continues(at(head))
end
if head > 0 then
  if head == length then redis.call('DEL', KEYS[2]) else redis.call('LTRIM', KEYS[2], head, -1) end
  length = length - head
end
if length == 0 then newest = {0, 0} end
local fields = {'#b', int(total)}
if newest then
  fields[3], fields[4], fields[5], fields[6] = '#gn', int(newest[1]), '#gb', int(newest[2])
else
  redis.call('HDEL', KEYS[3], '#gn', '#gb')
end
if operation ~= '' then
  local n = (tonumber(meta[4]) or 0) + 1
  fields[#fields + 1], fields[#fields + 2] = '#n', int(n)
  fields[#fields + 1], fields[#fields + 2] = operation, int(n) .. ' ' .. ARGV[5]
  -- Forget all but the latest ${MAX_OPERATIONS} once every ${MAX_OPERATIONS} operations: O(1) per operation on average.
  if n % ${MAX_OPERATIONS} == 0 then
    local stale = {}
    local all = redis.call('HGETALL', KEYS[3])
    for k = 1, #all, 2 do
      local field = all[k]
      if string.byte(field, 1) == 58 and tonumber(string.match(all[k + 1], '^(%d+)')) <= n - ${MAX_OPERATIONS} then
        stale[#stale + 1] = field
      end
    end
    for from = 1, #stale, 1000 do redis.call('HDEL', KEYS[3], unpack(stale, from, math.min(from + 999, #stale))) end
  end
end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('HSET', KEYS[1], 'items', withItems)
keepItems()
return {'ok', 1, head}
`;

/**
 * ARGV: now, sessionId, items retention (ms), batch token, part, item JSON…. Returns 1, or 0 when
 * the session is not live. The plain append: one new group, no bounds, no operation id.
 *
 * A batch too long for one command is sent as several calls of this script in one MULTI/EXEC
 * (parts "first", "next"…, "last"; a batch that fits is one call, part "only"). Nothing runs
 * between the calls of one EXEC, but the server clock may tick between them, so only the first
 * part decides liveness; it leaves the batch's random token in the record and the later parts
 * append only when they find it, so a batch is stored whole or not at all.
 */
const appendItems = `${liveSession}
${itemKit}
local part = ARGV[5]
local starts = part == 'only' or part == 'first'
if starts then
  if not live then return 0 end
  if part == 'only' then redis.call('HSET', KEYS[1], 'items', withItems)
  else redis.call('HSET', KEYS[1], 'items', withItems, 'appending', ARGV[4]) end
elseif redis.call('HGET', KEYS[1], 'appending') ~= ARGV[4] then
  return 0
end
local meta = redis.call('HMGET', KEYS[3], '#b', '#gn', '#gb')
local length = redis.call('LLEN', KEYS[2])
local total = totalOf(meta[1], length)
local texts, bytes = {}, 0
for k = 6, #ARGV do
  local text = ARGV[k]
  bytes = bytes + #text
  if k > 6 or not starts then text = '+' .. text end
  texts[#texts + 1] = text
end
for from = 1, #texts, 1000 do redis.call('RPUSH', KEYS[2], unpack(texts, from, math.min(from + 999, #texts))) end
local count = #texts
if not starts then
  count, bytes = count + (tonumber(meta[2]) or 0), bytes + (tonumber(meta[3]) or 0)
end
redis.call('HSET', KEYS[3], '#b', int(total + bytes), '#gn', int(count), '#gb', int(bytes))
if starts then keepItems() end
if part == 'last' then redis.call('HDEL', KEYS[1], 'appending') end
return 1
`;

/** ARGV: now, sessionId. Returns the newest item's JSON or nil. */
const popItem = `${liveSession}
if not live then return nil end
${itemKit}
local text = redis.call('RPOP', KEYS[2])
if not text then return nil end
local meta = redis.call('HMGET', KEYS[3], '#b', '#gn', '#gb')
if meta[1] then redis.call('HSET', KEYS[3], '#b', int(tonumber(meta[1]) - size(text))) end
if continues(text) and meta[2] then
  redis.call('HSET', KEYS[3], '#gn', int(tonumber(meta[2]) - 1), '#gb', int(tonumber(meta[3]) - size(text)))
  return string.sub(text, 2)
end
-- The newest group is now the one before: unknown until needed.
redis.call('HDEL', KEYS[3], '#gn', '#gb')
if continues(text) then return string.sub(text, 2) end
return text
`;

/** ARGV: now, sessionId. Returns 1, or 0 when the session is not live. Forgets the operation ids too. */
const clearItems = `${liveSession}
if not live then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
if record[4] == '2' or record[4] == '3' then redis.call('HSET', KEYS[1], 'items', '2')
else redis.call('HDEL', KEYS[1], 'items') end
return 1
`;

// Run scripts: KEYS session, runs hash of the session, history; ARGV now, sessionId, …. The
// session must be the pair's live one, or an ended one its history still keeps.

/**
 * runs.add. ARGV: now, sessionId, maxRuns ("" for no bound), run id, record JSON, the increments
 * "1 <inputTokens> <outputTokens> <totalTokens> <toolCalls> <handoffs> <errors>" (computed by the
 * caller: the script only adds), the last agent as "=<name>" or "". Returns {"ok", totals} (also for
 * a run already kept, which changes nothing) or {"ended"}.
 */
const addRun = `${clock}
local function int(value) return string.format('%d', value) end
local function num(value)
  if value == math.floor(value) and value > -9007199254740992 and value < 9007199254740992 then return int(value) end
  return string.format('%.17g', value)
end
local r = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout', 'items')
local live = r[1] == ARGV[2] and nowMs < tonumber(r[2]) + tonumber(r[3])
local index, entry, kept
if not live then
  -- A run that finished just after its session ended: kept while its history entry is.
  local needle = cjson.encode(ARGV[2])
  for n, candidate in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    if string.find(candidate, needle, 1, true) then
      local value = cjson.decode(candidate)
      if value[2] == ARGV[2] then
        index, entry, kept = n - 1, candidate, value
        break
      end
    end
  end
  if not entry or kept[1] <= nowMs then return {'ended'} end
end
local runId = ARGV[4]
local meta = redis.call('HMGET', KEYS[2], 't', 'l', '=' .. runId)
if meta[3] then return {'ok', meta[1]} end
local old = meta[1] or '0 0 0 0 0 0 0'
local numbers, agent = old, ''
local agentAt = string.find(old, ' =', 1, true)
if agentAt then numbers, agent = string.sub(old, 1, agentAt - 1), string.sub(old, agentAt) end
if ARGV[7] ~= '' then agent = ' ' .. ARGV[7] end
local sums = {}
for value in string.gmatch(numbers, '%S+') do sums[#sums + 1] = tonumber(value) end
local k = 0
for value in string.gmatch(ARGV[6], '%S+') do
  k = k + 1
  sums[k] = (sums[k] or 0) + (tonumber(value) or 0)
end
local parts = {}
for n = 1, #sums do parts[n] = num(sums[n]) end
local totals = table.concat(parts, ' ') .. agent
local sequence = sums[1]
local oldest = tonumber(meta[2]) or sequence
redis.call('HSET', KEYS[2], 't', totals, int(sequence), #runId .. ':' .. runId .. ARGV[5], '=' .. runId, int(sequence))
local maxRuns = tonumber(ARGV[3]) or math.huge
while sequence - oldest + 1 > maxRuns do
  local dropped = redis.call('HGET', KEYS[2], int(oldest))
  if dropped then
    local digits = string.match(dropped, '^(%d+):')
    redis.call('HDEL', KEYS[2], int(oldest), '=' .. string.sub(dropped, #digits + 2, #digits + 1 + tonumber(digits)))
  end
  oldest = oldest + 1
end
redis.call('HSET', KEYS[2], 'l', int(oldest))
if live then
  -- The record shows the totals and marks the runs (see the record's fields); the runs hash
  -- lives as long as the record, whose TTL the resolves and touches slide for both.
  if r[4] == '1' or r[4] == '3' then redis.call('HSET', KEYS[1], 'items', '3', 'tot', totals)
  else redis.call('HSET', KEYS[1], 'items', '2', 'tot', totals) end
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 and redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
else
  -- The history entry shows the totals it reached; the runs hash lives as long as the entry.
  local suffix = ']'
  if type(kept[10]) == 'string' then suffix = ',' .. cjson.encode(kept[10]) .. ']' end
  redis.call('LSET', KEYS[3], index, string.sub(entry, 1, #entry - #suffix) .. ',' .. cjson.encode(totals) .. ']')
  redis.call('HSET', KEYS[2], 'k', int(kept[1]))
  redis.call('PEXPIRE', KEYS[2], int(kept[1] - nowMs))
end
return {'ok', totals}
`;

/**
 * runs.list. ARGV: now, sessionId, after (a sequence number, 0 for the first page), limit. Returns
 * {} when the session's runs are gone, else {runs so far, the last sequence returned, record JSON…}
 * (oldest first, read-only).
 */
const listRuns = `${clock}
local function int(value) return string.format('%d', value) end
local meta = redis.call('HMGET', KEYS[2], 't', 'l', 'k')
if not meta[1] then return {} end
if meta[3] then
  if nowMs >= tonumber(meta[3]) then return {} end
else
  local r = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout')
  if r[1] ~= ARGV[2] or nowMs >= tonumber(r[2]) + tonumber(r[3]) then return {} end
end
local runs = tonumber(string.match(meta[1], '^(%d+)'))
local from = math.max(tonumber(meta[2]) or 1, tonumber(ARGV[3]) + 1)
local to = math.min(runs, from + tonumber(ARGV[4]) - 1)
local reply = {int(runs), int(math.max(to, from - 1))}
for first = from, to, 1000 do
  local fields = {}
  for sequence = first, math.min(first + 999, to) do fields[#fields + 1] = int(sequence) end
  for _, stored in ipairs(redis.call('HMGET', KEYS[2], unpack(fields))) do
    if stored then
      local digits = string.match(stored, '^(%d+):')
      reply[#reply + 1] = string.sub(stored, #digits + 2 + tonumber(digits))
    end
  end
end
return reply
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
  readonly forget: Script;
  readonly sweep: Script;
  readonly appendItems: Script;
  readonly applyItems: Script;
  readonly popItem: Script;
  readonly clearItems: Script;
  readonly addRun: Script;
  readonly listRuns: Script;
} = {
  resolve: script("resolve", resolve),
  touch: script("touch", touch),
  get: script("get", get),
  close: script("close", close),
  forget: script("forget", forget),
  sweep: script("sweep", sweep),
  appendItems: script("items.append", appendItems),
  applyItems: script("items.apply", applyItems),
  popItem: script("items.pop", popItem),
  clearItems: script("items.clear", clearItems),
  addRun: script("runs.add", addRun),
  listRuns: script("runs.list", listRuns),
};
