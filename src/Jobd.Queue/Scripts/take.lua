#!lua flags=allow-oom
-- take: settles the worker's previous job (if any) and takes the next ready job, in one round trip.
-- Flagged allow-oom: under maxmemory with noeviction, jobs in flight must still settle (RELIABILITY.md).
-- Helpers (now_ms, wake, release_unique, to_dead) come from common.lua.
-- KEYS[1]  leases set      {P}:leases        id -> lease deadline (Redis ms)
-- KEYS[2]  worker hash     {P}:worker:<wid>  job, token: what this worker holds (reclaimed after a lost reply)
-- KEYS[3]  scheduled set   {P}:scheduled
-- KEYS[4]  dead set        {P}:dead          id -> time of death
-- KEYS[5]  stats hash      {P}:stats         counters: done, dead, retried
-- KEYS[6]  wake prefix     {P}:wake          tokens go to the list {P}:wake:<queue>
-- KEYS[7..] queue lists    {P}:q:<name>, in strict priority order (may be none: settle only)
-- ARGV[1]  worker id
-- ARGV[2]  lease ms
-- ARGV[3]  token for the job taken now (unique per take)
-- ARGV[4]  settle: "" nothing | "done" | "retry" | "dead" | "requeue" (put back unspent, e.g. on shutdown)
-- ARGV[5]  settled job id
-- ARGV[6]  settled job's token (fences a late settle after the lease was lost)
-- ARGV[7]  result (done) or error (retry, dead): text
-- ARGV[8]  retry delay ms
-- ARGV[9]  done ttl ms      ARGV[10] dead ttl ms      ARGV[11] dead cap (entries kept)
-- ARGV[12] max args bytes (a larger job goes to dead unread)
-- ARGV[13] key prefix "{P}:" (job, unique and queue keys are built from it; same slot as KEYS)
-- ARGV[14] outbox cap: 0 no outbox (no DATABASE_URL); otherwise outcomes go to {P}:outbox, and at this many
--          entries nothing new is taken (the running job still settles) until the sink has drained it
-- Returns {settled, job, paused, refused, bad, visited, more, stale, skipped} where settled is 1 (applied or already applied by this
-- token), 0 (lease lost: the job was recovered and belongs to another take) or -1 (nothing to settle), job is {} or
-- {id, type, queue, args, attempt, max_attempts, timeout_ms, recoveries, enqueued_at, token} (numbers as integers,
-- timeout_ms "" for the worker's default), paused is 1 when nothing was taken because the outbox is at its cap,
-- refused is {id, reason, ...} for the jobs this call sent to dead unread (payload_too_large, malformed_job), bad
-- is {queue key, error, ...} for queue keys that are not lists (WRONGTYPE: skipped, the other queues are served),
-- visited is how many queue keys were looked at (in order), and more is 1 when the call stopped after
-- REFUSED_MAX refusals with queues not yet empty (take again at once). When nothing was taken from queues that were
-- all empty, their wake lists are emptied too: tokens left there belong to jobs taken already by busy workers, and
-- would only wake an idle worker for nothing, once per token. stale is the number of such lists dropped (the
-- caller then ticks: one of those tokens may have announced a new earliest delayed job).
-- skipped is {id, state, ...} for queue entries dropped because their job is not 'ready' (an id pushed twice, by
-- a raw producer or a bug: the job is running, done, scheduled… elsewhere and must not run again from here).
local P = ARGV[13]
local now = now_ms()
local outbox_cap = tonumber(ARGV[14])
if outbox_cap > 0 then OUTBOX, MAX_ARGS = P .. 'outbox', tonumber(ARGV[12]) end

local refused, bad, skipped = {}, {}, {}
local settled = -1
local kind = ARGV[4]
if kind ~= '' then
  local id = ARGV[5]
  local job_key = P .. 'job:' .. id
  local state, token, attempt, max_attempts, queue, unique = unpack(redis.call('HMGET', job_key, 'state', 'token', 'attempt', 'max_attempts', 'queue', 'unique'))
  if token ~= ARGV[6] then
    settled = 0
  elseif state ~= 'running' then
    settled = 1 -- the same settle, repeated after its reply was lost
  else
    settled = 1
    redis.call('ZREM', KEYS[1], id)
    if kind == 'done' then
      redis.call('HSET', job_key, 'state', 'done', 'result', ARGV[7], 'finished_at', now)
      record_outcome(job_key, id, 'succeeded', ARGV[7], now)
      redis.call('PEXPIRE', job_key, ARGV[9])
      redis.call('HINCRBY', KEYS[5], 'done', 1)
      release_unique(P, job_key, id, unique or '')
    elseif kind == 'retry' and tonumber(attempt) < tonumber(max_attempts) then
      local due = now + tonumber(ARGV[8])
      redis.call('HSET', job_key, 'state', 'retry', 'last_error', ARGV[7], 'run_at', due)
      record_outcome(job_key, id, 'failed', ARGV[7], now)
      redis.call('ZADD', KEYS[3], due, id)
      redis.call('HINCRBY', KEYS[5], 'retried', 1)
    elseif kind == 'retry' or kind == 'dead' then
      local reason = ARGV[7]
      if kind == 'retry' then reason = 'attempts exhausted (' .. attempt .. '): ' .. reason end
      to_dead(P, KEYS[4], job_key, id, reason, now, ARGV[10], ARGV[11])
      redis.call('HINCRBY', KEYS[5], 'dead', 1)
    elseif kind == 'requeue' then
      redis.call('HSET', job_key, 'state', 'ready', 'attempt', math.max(0, tonumber(attempt) - 1))
      local err = push_queue(P .. 'q:' .. queue, id, true, KEYS[3], job_key, now)
      if err then
        bad[#bad + 1] = P .. 'q:' .. queue
        bad[#bad + 1] = err
      else
        wake(KEYS[6], queue)
      end
    else
      return redis.error_reply('ERR jobd: unknown settle kind ' .. kind)
    end
  end
end

if OUTBOX and #KEYS > 6 and redis.call('XLEN', OUTBOX) >= outbox_cap then
  if kind ~= '' then redis.call('HSET', KEYS[2], 'job', '', 'token', '') end
  return {settled, {}, 1, refused, bad, 0, 0, 0, skipped}
end

-- Why a job hash cannot be run, naming the field (PROTOCOL.md, "The job hash"), or nil. Producers that skip the
-- enqueue script (a raw client, a bug) must not crash a worker or stall the queue: such a job goes to dead unread.
local NAME = '^[%w_%.:%-]+$'
local function whole(v, lo, hi)
  local n = tonumber(v)
  return n ~= nil and n == math.floor(n) and n >= lo and n <= hi
end
local function malformed(id, f)
  if #id > 64 or not string.find(id, NAME) then return 'id must be 1-64 of A-Z a-z 0-9 _ . : -' end
  if not f[1] then return 'type is missing' end
  if #f[1] > 128 or not string.find(f[1], NAME) then return 'type must be 1-128 of A-Z a-z 0-9 _ . : -' end
  if not f[2] then return 'queue is missing' end
  if #f[2] > 64 or not string.find(f[2], '^[%w_%-]+$') then return 'queue must be 1-64 of A-Z a-z 0-9 _ -' end
  if not f[3] then return 'args is missing' end
  if string.sub(f[3], 1, 1) ~= '{' then return 'args must be a JSON object' end
  if not whole(f[5], 1, 1000) then return 'max_attempts must be a whole number from 1 to 1000' end
  if not whole(f[4], 0, tonumber(f[5]) - 1) then return 'attempt must be a whole number below max_attempts' end
  if f[6] and f[6] ~= '' and not whole(f[6], 1, 86400000) then return 'timeout_ms must be empty or 1 to 86400000' end
  if not whole(f[7], 0, 1000000) then return 'recoveries must be a whole number' end
  if not whole(f[8], 0, 253402300799999) then return 'enqueued_at must be Unix ms' end
  if f[9] and f[9] ~= '' and not whole(f[9], 0, 253402300799999) then return 'run_at must be Unix ms up to year 9999' end
  return nil
end

local function refuse(job_key, id, reason)
  to_dead(P, KEYS[4], job_key, id, reason, now, ARGV[10], ARGV[11])
  redis.call('HINCRBY', KEYS[5], 'dead', 1)
  -- The id goes back to the worker for its log line: cut, so a 20 MB "id" costs the worker nothing.
  refused[#refused + 1] = #id > 100 and string.sub(id, 1, 100) or id
  refused[#refused + 1] = reason
end

-- A queue of garbage must not hold Redis in one script call: after this many refusals (or dropped entries) the
-- worker asks again.
local REFUSED_MAX = 100

for k = 7, #KEYS do
  while true do
    local id = redis.pcall('RPOP', KEYS[k])
    if type(id) == 'table' then
      -- Not a list (WRONGTYPE): skip this queue and serve the others; the worker reports the key.
      bad[#bad + 1] = KEYS[k]
      bad[#bad + 1] = id.err
      break
    end
    if not id then break end
    local job_key = P .. 'job:' .. id
    local f = redis.call('HMGET', job_key, 'type', 'queue', 'args', 'attempt', 'max_attempts', 'timeout_ms', 'recoveries', 'enqueued_at', 'run_at', 'state')
    -- An id without its hash (purged, or expired) is dropped: there is nothing left to run.
    if f[1] or f[2] or f[3] or f[4] or redis.call('EXISTS', job_key) == 1 then
      local problem = malformed(id, f)
      if f[10] and f[10] ~= 'ready' then
        -- A second entry for a job that is already elsewhere in its life: drop the entry, leave the job alone.
        skipped[#skipped + 1] = #id > 100 and string.sub(id, 1, 100) or id
        skipped[#skipped + 1] = string.sub(f[10], 1, 20)
      elseif f[3] and #f[3] > tonumber(ARGV[12]) then
        refuse(job_key, id, 'payload_too_large (' .. #f[3] .. ' bytes)')
      elseif problem then
        refuse(job_key, id, 'malformed_job: ' .. problem)
      else
        local attempt = tonumber(f[4]) + 1
        redis.call('HSET', job_key, 'state', 'running', 'attempt', attempt, 'token', ARGV[3], 'worker', ARGV[1], 'started_at', now)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
        redis.call('HSET', KEYS[2], 'job', id, 'token', ARGV[3])
        local timeout = f[6] and f[6] ~= '' and tonumber(f[6]) or ''
        return {settled, {id, f[1], f[2], f[3], attempt, tonumber(f[5]), timeout, tonumber(f[7]), tonumber(f[8]), ARGV[3]}, 0,
          refused, bad, k - 6, 0, 0, skipped}
      end
      if #refused + #skipped >= 2 * REFUSED_MAX then
        if kind ~= '' then redis.call('HSET', KEYS[2], 'job', '', 'token', '') end
        return {settled, {}, 0, refused, bad, k - 6, 1, 0, skipped}
      end
    end
  end
end
if kind ~= '' then redis.call('HSET', KEYS[2], 'job', '', 'token', '') end
local stale = 0
if #KEYS > 6 then
  local from = #P + 3 -- KEYS[k] is P .. 'q:' .. queue
  local lists = {}
  for k = 7, #KEYS do lists[#lists + 1] = KEYS[6] .. ':' .. string.sub(KEYS[k], from) end
  stale = redis.call('DEL', unpack(lists))
end
return {settled, {}, 0, refused, bad, #KEYS - 6, 0, stale, skipped}
