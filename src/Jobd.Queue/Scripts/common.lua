-- common: helpers prepended to take.lua and tick.lua when they are loaded (after their #!lua line).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Wake tokens, one list per queue ({P}:wake:<queue>, wake_prefix being {P}:wake): one token per job made ready
-- wakes one idle worker that serves its queue (a worker of other queues never swallows it); the cap bounds a
-- list while no worker waits.
local function wake(wake_prefix, queue)
  local key = wake_prefix .. ':' .. queue
  redis.call('LPUSH', key, '1')
  redis.call('LTRIM', key, 0, 999)
end

-- A new earliest scheduled job: one token on {P}:wake, which every idle worker waits on besides its queues' lists,
-- so that one of them ticks now and sets its timer to the job's due time (any worker moves due jobs of any queue).
local function wake_timer(wake_key)
  redis.call('LPUSH', wake_key, '1')
  redis.call('LTRIM', wake_key, 0, 999)
end

-- Pushes a job id onto its queue list: the back (LPUSH) or, front=true, the front (RPUSH; workers pop the right
-- end). A queue key that someone else made into another type answers WRONGTYPE; that must neither abort the
-- script (every queue would stall, and its earlier writes would stay) nor lose the job: it waits in
-- {P}:scheduled for PARK_MS, state 'scheduled', and is pushed again then. Returns nil, or Redis' error text.
local PARK_MS = 60000
local function push_queue(queue_key, id, front, scheduled_key, job_key, now)
  local r = redis.pcall(front and 'RPUSH' or 'LPUSH', queue_key, id)
  if type(r) == 'table' and r.err then
    redis.call('ZADD', scheduled_key, now + PARK_MS, id)
    redis.call('HSET', job_key, 'state', 'scheduled', 'run_at', now + PARK_MS)
    return r.err
  end
  return nil
end

-- The uniqueness key is released only by the job that holds it. Pass the job's 'unique' field when already read.
local function release_unique(P, job_key, id, u)
  if u == nil then u = redis.call('HGET', job_key, 'unique') end
  if u and u ~= '' and redis.call('GET', P .. 'unique:' .. u) == id then redis.call('DEL', P .. 'unique:' .. u) end
end

-- The outbox: a stream the result sink drains into Postgres. An outcome is appended in the same script call
-- that settles the job, so a crash can neither lose it nor re-run a finished job. OUTBOX stays nil for a
-- worker without DATABASE_URL. The job's 'outcomes' counter numbers its outcomes: with the id it is the
-- row's key in Postgres (attempts alone repeat after `jobd dead retry`).
-- MAX_ARGS: arguments larger than this (a job refused as too large) are left out of the outcome. Args and text
-- over 32 KB are cut (the sink then stores them as a JSON string), so the outbox stays small in bytes as well as
-- entries, and a read of 500 entries (at most ~33 MB) stays below the reply limit.
local OUTBOX, MAX_ARGS = nil, nil
local OUTCOME_FIELD_MAX = 32768
local function record_outcome(job_key, id, state, text, now, attempt)
  if not OUTBOX then return end
  local f = redis.call('HMGET', job_key, 'type', 'queue', 'args', 'attempt', 'max_attempts', 'recoveries', 'enqueued_at', 'started_at', 'worker')
  if MAX_ARGS and f[3] and #f[3] > MAX_ARGS then f[3] = '' end
  if f[3] and #f[3] > OUTCOME_FIELD_MAX then f[3] = string.sub(f[3], 1, OUTCOME_FIELD_MAX) end
  if #text > OUTCOME_FIELD_MAX then text = string.sub(text, 1, OUTCOME_FIELD_MAX) end
  local seq = redis.call('HINCRBY', job_key, 'outcomes', 1)
  redis.call('XADD', OUTBOX, '*', 'id', id, 'seq', seq, 'attempt', attempt or f[4] or 0, 'max_attempts', f[5] or 0,
    'type', f[1] or '', 'queue', f[2] or '', 'state', state, 'recoveries', f[6] or 0, 'args', f[3] or '',
    'text', text, 'enqueued_at', f[7] or '', 'started_at', f[8] or '', 'finished_at', now, 'worker', f[9] or '')
end

-- Dead jobs are kept dead_ttl ms and at most dead_cap of them: the oldest go first, hash and all.
-- attempt: the attempt that died, when the hash already holds another (a recovery gives the attempt back).
local function to_dead(P, dead_key, job_key, id, reason, now, dead_ttl, dead_cap, attempt)
  record_outcome(job_key, id, 'dead', reason, now, attempt)
  redis.call('HSET', job_key, 'state', 'dead', 'last_error', reason, 'finished_at', now)
  redis.call('PEXPIRE', job_key, dead_ttl)
  redis.call('ZADD', dead_key, now, id)
  release_unique(P, job_key, id)
  local over = redis.call('ZCARD', dead_key) - tonumber(dead_cap)
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', dead_key, 0, over - 1)) do redis.call('DEL', P .. 'job:' .. old) end
    redis.call('ZREMRANGEBYRANK', dead_key, 0, over - 1)
  end
end
