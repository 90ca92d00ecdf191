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
-- Returns {settled, job, paused, stale} where settled is 1 (applied or already applied by this token), 0 (lease lost: the
-- job was recovered and belongs to another take) or -1 (nothing to settle), job is {} or
-- {id, type, queue, args, attempt, max_attempts, timeout_ms, recoveries, enqueued_at, token}, and paused is 1
-- when nothing was taken because the outbox is at its cap, 0 otherwise. When nothing was taken from queues that were
-- all empty, their wake lists are emptied too: tokens left there belong to jobs taken already by busy workers, and
-- would only wake an idle worker for nothing, once per token. stale is the number of such lists dropped (the
-- caller then ticks: one of those tokens may have announced a new earliest delayed job).
local P = ARGV[13]
local now = now_ms()
local outbox_cap = tonumber(ARGV[14])
if outbox_cap > 0 then OUTBOX, MAX_ARGS = P .. 'outbox', tonumber(ARGV[12]) end

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
      redis.call('RPUSH', P .. 'q:' .. queue, id)
      wake(KEYS[6], queue)
    else
      return redis.error_reply('ERR jobd: unknown settle kind ' .. kind)
    end
  end
end

if OUTBOX and #KEYS > 6 and redis.call('XLEN', OUTBOX) >= outbox_cap then
  if kind ~= '' then redis.call('HSET', KEYS[2], 'job', '', 'token', '') end
  return {settled, {}, 1, 0}
end

for k = 7, #KEYS do
  while true do
    local id = redis.call('RPOP', KEYS[k])
    if not id then break end
    local job_key = P .. 'job:' .. id
    local f = redis.call('HMGET', job_key, 'type', 'queue', 'args', 'attempt', 'max_attempts', 'timeout_ms', 'recoveries', 'enqueued_at')
    if f[1] then
      local size = #f[3]
      if size > tonumber(ARGV[12]) then
        to_dead(P, KEYS[4], job_key, id, 'payload_too_large (' .. size .. ' bytes)', now, ARGV[10], ARGV[11])
      else
        local attempt = tonumber(f[4]) + 1
        redis.call('HSET', job_key, 'state', 'running', 'attempt', attempt, 'token', ARGV[3], 'worker', ARGV[1], 'started_at', now)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
        redis.call('HSET', KEYS[2], 'job', id, 'token', ARGV[3])
        return {settled, {id, f[1], f[2], f[3], attempt, f[5], f[6], f[7], f[8], ARGV[3]}, 0, 0}
      end
    end
    -- An id without its hash (purged, or expired) is dropped: there is nothing left to run.
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
return {settled, {}, 0, stale}
