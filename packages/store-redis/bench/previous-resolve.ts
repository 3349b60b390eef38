// The resolve script of the release before the lifecycle (git 0a9f269^, src/scripts.ts), verbatim:
// the benchmark compares the server CPU of a resolve now with it. KEYS: session, items. ARGV: now
// ("" = server clock), timeoutMs, forceNew, candidate, record TTL, items TTL, proposal time.

const clock = `
local now = ARGV[1]
if now == '' then
  local time = redis.call('TIME')
  local micro = time[2]
  now = time[1] .. string.sub(string.rep('0', 6 - #micro) .. micro, 1, 3)
end
local nowMs = tonumber(now)
`;

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

export const previousResolve: string = resolve;
