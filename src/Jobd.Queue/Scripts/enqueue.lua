#!lua
-- enqueue: creates a job, ready now or scheduled for later. With a uniqueness key that a pending or running job
-- already holds, nothing is created and the holder's id is returned. (PROTOCOL.md, "enqueue")
-- KEYS[1] job hash       {P}:job:<id>
-- KEYS[2] queue list     {P}:q:<queue>
-- KEYS[3] scheduled set  {P}:scheduled
-- KEYS[4] unique key     {P}:unique:<key>, or {P}:unique: when ARGV[8] is empty (then untouched)
-- KEYS[5] wake list      {P}:wake          a new earliest scheduled job's token; a ready job's goes to {P}:wake:<queue>
-- KEYS[6] queues set     {P}:queues
-- ARGV[1] id             1-64 of A-Z a-z 0-9 _ . : -
-- ARGV[2] type           1-128 of A-Z a-z 0-9 _ . : -
-- ARGV[3] queue          1-64 of A-Z a-z 0-9 _ - (the name inside KEYS[2])
-- ARGV[4] args           JSON text of an object; stored as given, not parsed here
-- ARGV[5] max attempts   1-1000, or "" for 25
-- ARGV[6] timeout ms     1-86400000, or "" for the worker's JOBD_JOB_TIMEOUT
-- ARGV[7] run at         "" now; "+N" N ms after Redis' clock; "N" absolute Unix time in ms
-- ARGV[8] unique key     "" for none; otherwise 1-200 bytes
-- ARGV[9] unique ttl ms  how long the key may outlive the job's due time if never released, 1000-2592000000
-- Returns {1, id, "ready"|"scheduled"} when created; {0, holder id, "duplicate"} when the unique key is held.
-- Errors "ERR jobd: ..." name the malformed argument; nothing is written then.
local function refuse(msg) return redis.error_reply('ERR jobd: ' .. msg) end
local function name_ok(s, max, pattern) return #s >= 1 and #s <= max and string.find(s, pattern) ~= nil end

local id, jtype, queue, args = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not name_ok(id, 64, '^[%w_%.:%-]+$') then return refuse('id must be 1-64 of A-Z a-z 0-9 _ . : -') end
if not name_ok(jtype, 128, '^[%w_%.:%-]+$') then return refuse('type must be 1-128 of A-Z a-z 0-9 _ . : -') end
if not name_ok(queue, 64, '^[%w_%-]+$') then return refuse('queue must be 1-64 of A-Z a-z 0-9 _ -') end
if string.sub(KEYS[2], -(#queue + 3)) ~= ':q:' .. queue then return refuse('KEYS[2] is not the list of queue ' .. queue) end
if string.sub(args, 1, 1) ~= '{' then return refuse('args must be a JSON object') end
-- A queue key someone else made into another type would take the job hash but not its id: refuse first.
local qtype = redis.call('TYPE', KEYS[2])['ok']
if qtype ~= 'none' and qtype ~= 'list' then return refuse('queue key ' .. KEYS[2] .. ' holds a ' .. qtype .. ', not a list') end

local max_attempts = 25
if ARGV[5] ~= '' then
  max_attempts = tonumber(ARGV[5])
  if not max_attempts or max_attempts ~= math.floor(max_attempts) or max_attempts < 1 or max_attempts > 1000 then
    return refuse('max attempts must be an integer from 1 to 1000')
  end
end
local timeout = ARGV[6]
if timeout ~= '' then
  local t = tonumber(timeout)
  if not t or t ~= math.floor(t) or t < 1 or t > 86400000 then return refuse('timeout must be 1 to 86400000 ms') end
end

-- Redis' clock, not the producer's: schedules must not depend on which machine's clock is right.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = now
local run_at = ARGV[7]
if run_at ~= '' then
  local relative = string.sub(run_at, 1, 1) == '+'
  local n = tonumber(relative and string.sub(run_at, 2) or run_at)
  if not n or n ~= math.floor(n) or n < 0 or n > 253402300799999 then return refuse('run at must be +ms or Unix ms') end
  due = relative and now + n or n
end

local unique = ARGV[8]
if unique ~= '' then
  if #unique > 200 then return refuse('unique key must be at most 200 bytes') end
  if KEYS[4] ~= string.sub(KEYS[4], 1, #KEYS[4] - #unique) .. unique then return refuse('KEYS[4] does not end with the unique key') end
  local ttl = tonumber(ARGV[9])
  if not ttl or ttl < 1000 or ttl > 2592000000 then return refuse('unique ttl must be 1000 to 2592000000 ms') end
  if redis.call('EXISTS', KEYS[1]) == 1 then return refuse('job ' .. id .. ' exists') end
  local held = redis.call('SET', KEYS[4], id, 'NX', 'GET', 'PX', math.max(0, due - now) + ttl)
  if held then return {0, held, 'duplicate'} end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return refuse('job ' .. id .. ' exists')
end

local state = due <= now and 'ready' or 'scheduled'
redis.call('HSET', KEYS[1], 'type', jtype, 'queue', queue, 'args', args, 'state', state,
  'attempt', 0, 'max_attempts', max_attempts, 'timeout_ms', timeout, 'recoveries', 0,
  'enqueued_at', now, 'run_at', due, 'unique', unique)
redis.call('SADD', KEYS[6], queue)
if state == 'ready' then
  redis.call('LPUSH', KEYS[2], id)
  -- One wake token per ready job lets one idle worker of this queue leave its blocking wait; the cap bounds the
  -- list when no worker is idle (busy workers look at the queues before they wait, so no job waits on a token).
  redis.call('LPUSH', KEYS[5] .. ':' .. queue, '1')
  redis.call('LTRIM', KEYS[5] .. ':' .. queue, 0, 999)
else
  redis.call('ZADD', KEYS[3], due, id)
  -- A new earliest due time: wake an idle worker, of any queue, so it shortens its wait to this job's due time.
  local first = redis.call('ZRANGE', KEYS[3], 0, 0)
  if first[1] == id then
    redis.call('LPUSH', KEYS[5], '1')
    redis.call('LTRIM', KEYS[5], 0, 999)
  end
end
return {1, id, state}
