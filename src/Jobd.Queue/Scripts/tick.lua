#!lua flags=allow-oom
-- tick: the control tick every worker runs on its own timer. In one round trip: heartbeat (extends the lease of
-- the job it runs), moves due scheduled and retry jobs to their queues, recovers jobs whose lease expired (their
-- worker died or was partitioned), trims finished jobs past their retention. Batch-limited: a caller that gets
-- back a full batch runs it again at once. Safe with any number of replicas: each move is atomic.
-- Helpers (now_ms, wake, release_unique, to_dead) come from common.lua.
-- KEYS[1] leases set     {P}:leases
-- KEYS[2] scheduled set  {P}:scheduled
-- KEYS[3] workers set    {P}:workers        worker id -> last heartbeat (Redis ms)
-- KEYS[4] worker hash    {P}:worker:<wid>
-- KEYS[5] dead set       {P}:dead
-- KEYS[6] stats hash     {P}:stats        counters: recovered, dead
-- KEYS[7] wake prefix    {P}:wake           tokens go to the lists {P}:wake:<queue>
-- ARGV[1] worker id              ARGV[2] lease ms
-- ARGV[3] running job id or ""   ARGV[4] its token
-- ARGV[5] batch limit            ARGV[6] max recoveries before a job is dead
-- ARGV[7] dead ttl ms            ARGV[8] dead cap
-- ARGV[9] key prefix "{P}:"      ARGV[10] how long a silent worker stays listed, ms
-- ARGV[11] 1: outcomes go to the outbox {P}:outbox (DATABASE_URL set); 0: no outbox
-- ARGV[12] 0: recover no expired lease this time (the caller's ticks were failing: every lease, live
--          workers' too, may have expired meanwhile; they get one lease period to renew); otherwise recover
-- Returns {moved, lease, next_ms, recovered, buried, outbox, bad, refused, more} where lease is 1 (extended), 0
-- (lost: the job was recovered or settled elsewhere) or -1 (no job); finished jobs need no trimming (their hashes
-- expire); next_ms is the time until the earliest scheduled job or lease deadline (-1 if none); recovered and
-- buried are flat lists {id, worker, id, worker, ...}; outbox is the outbox's length (entries not yet in
-- Postgres), -1 without an outbox; bad is {queue key, error, ...} for queue keys that are not lists (their jobs
-- wait in {P}:scheduled, see push_queue); refused is {id, reason, ...} for due jobs sent to dead because their
-- hash names no valid queue; more is how many due jobs are still waiting after a full batch (0 otherwise), so the
-- caller can move them all in one pipelined round trip of more/limit calls.
local P = ARGV[9]
if ARGV[11] == '1' then OUTBOX = P .. 'outbox' end
local now = now_ms()
local limit = tonumber(ARGV[5])

redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('HSET', KEYS[4], 'heartbeat', now)
redis.call('PEXPIRE', KEYS[4], ARGV[10])
local lease = -1
if ARGV[3] ~= '' then
  local job_key = P .. 'job:' .. ARGV[3]
  local state, token = unpack(redis.call('HMGET', job_key, 'state', 'token'))
  if state == 'running' and token == ARGV[4] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[3])
    lease = 1
  else
    lease = 0
  end
end

local bad, bad_seen, refused = {}, {}, {}
local function note_bad(key, err)
  if bad_seen[key] then return end
  bad_seen[key] = true
  bad[#bad + 1] = key
  bad[#bad + 1] = err
end

local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
local more = 0
if #due > 0 then
  -- Per batch, not per job: one ZREM, and each queue's wake tokens in one LPUSH (at most 1,000, a list's cap).
  redis.call('ZREM', KEYS[2], unpack(due))
  local tokens = {}
  for _, id in ipairs(due) do
    local job_key = P .. 'job:' .. id
    local queue = redis.call('HGET', job_key, 'queue')
    if queue and #queue <= 64 and string.find(queue, '^[%w_%-]+$') then
      local key = P .. 'q:' .. queue
      local err = push_queue(key, id, false, KEYS[2], job_key, now)
      if err then
        note_bad(key, err)
      else
        redis.call('HSET', job_key, 'state', 'ready')
        local n = tokens[queue] or 0
        if n < 1000 then tokens[queue] = n + 1 end
      end
    elseif queue or redis.call('EXISTS', job_key) == 1 then
      -- Written by something other than the enqueue script: dead with the reason, not silently dropped.
      local reason = queue and 'malformed_job: queue must be 1-64 of A-Z a-z 0-9 _ -' or 'malformed_job: queue is missing'
      to_dead(P, KEYS[5], job_key, id, reason, now, ARGV[7], ARGV[8])
      redis.call('HINCRBY', KEYS[6], 'dead', 1)
      refused[#refused + 1] = #id > 100 and string.sub(id, 1, 100) or id
      refused[#refused + 1] = reason
    end
  end
  for queue, n in pairs(tokens) do
    local ones = {}
    for i = 1, n do ones[i] = '1' end
    local key = KEYS[7] .. ':' .. queue
    redis.call('LPUSH', key, unpack(ones))
    redis.call('LTRIM', key, 0, 999)
  end
  if #due == limit then more = redis.call('ZCOUNT', KEYS[2], '-inf', now) end
end

local recovered, buried = {}, {}
local max_recoveries = tonumber(ARGV[6])
local expired = {}
if ARGV[12] ~= '0' then expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit) end
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local job_key = P .. 'job:' .. id
  local worker, recoveries, attempt, queue = unpack(redis.call('HMGET', job_key, 'worker', 'recoveries', 'attempt', 'queue'))
  if queue then
    recoveries = tonumber(recoveries) + 1
    -- A recovery does not spend an attempt: the job did not fail, its worker vanished.
    redis.call('HSET', job_key, 'recoveries', recoveries, 'attempt', math.max(0, tonumber(attempt) - 1), 'token', '')
    if recoveries >= max_recoveries then
      to_dead(P, KEYS[5], job_key, id, 'worker_lost: its worker died while running it ' .. recoveries .. ' times', now, ARGV[7], ARGV[8], attempt)
      redis.call('HINCRBY', KEYS[6], 'dead', 1)
      table.insert(buried, id)
      table.insert(buried, worker or '')
    else
      redis.call('HSET', job_key, 'state', 'ready')
      local key = P .. 'q:' .. queue
      local err = push_queue(key, id, true, KEYS[2], job_key, now)
      if err then note_bad(key, err) else wake(KEYS[7], queue) end
      redis.call('HINCRBY', KEYS[6], 'recovered', 1)
      table.insert(recovered, id)
      table.insert(recovered, worker or '')
    end
  end
end

redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - tonumber(ARGV[7]))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[10]))

local next_ms = -1
for _, key in ipairs({KEYS[2], KEYS[1]}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then
    local wait = math.max(0, tonumber(first[2]) - now)
    if next_ms < 0 or wait < next_ms then next_ms = wait end
  end
end
local outbox = -1
if OUTBOX then outbox = redis.call('XLEN', OUTBOX) end
return {#due, lease, next_ms, recovered, buried, outbox, bad, refused, more}
