#!lua
-- dead_retry: moves dead jobs back to ready (`jobd dead retry`). Attempts and recoveries restart at 0;
-- last_error is kept; the hash loses its dead TTL. Helpers (now_ms, wake) come from common.lua.
-- KEYS[1] dead set       {P}:dead          id -> time of death
-- KEYS[2] wake prefix    {P}:wake          tokens go to the list {P}:wake:<queue>
-- ARGV[1] key prefix     "{P}:" (job, queue and unique keys are built from it; same slot as KEYS)
-- ARGV[2] unique ttl ms  how long a re-taken uniqueness key may live if never released
-- ARGV[3] mode           "ids": ARGV[6..] are the ids | "all": a batch from the dead set
-- ARGV[4] queue filter   "" any queue; otherwise only jobs of this queue (mode all)
-- ARGV[5] batch          mode all: "N,OFFSET": look at up to N dead entries, oldest first, from rank OFFSET
-- ARGV[6..] ids          mode ids
-- Returns {moved, kept, looked}: jobs made ready; entries looked at that stay in the dead set (another queue);
-- entries looked at. An entry whose hash is gone (expired) is dropped from the dead set and not counted as moved.
-- With mode all the caller repeats with OFFSET + kept until looked < N.
local P = ARGV[1]
local moved, kept = 0, 0
local filter = ARGV[4]
local now = now_ms()

local function retry(id)
  local job_key = P .. 'job:' .. id
  local state, queue, unique = unpack(redis.call('HMGET', job_key, 'state', 'queue', 'unique'))
  if not state then
    redis.call('ZREM', KEYS[1], id)
    return
  end
  if state ~= 'dead' or not queue or filter ~= '' and queue ~= filter then
    kept = kept + 1
    return
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('HSET', job_key, 'state', 'ready', 'attempt', 0, 'recoveries', 0, 'run_at', now)
  redis.call('PERSIST', job_key)
  -- The key is re-taken only when free: another job that took it meanwhile keeps it.
  if unique and unique ~= '' then redis.call('SET', P .. 'unique:' .. unique, id, 'NX', 'PX', ARGV[2]) end
  if not push_queue(P .. 'q:' .. queue, id, false, P .. 'scheduled', job_key, now) then wake(KEYS[2], queue) end
  moved = moved + 1
end

local looked = 0
if ARGV[3] == 'ids' then
  for i = 6, #ARGV do
    retry(ARGV[i])
    looked = looked + 1
  end
elseif ARGV[3] == 'all' then
  local n, offset = string.match(ARGV[5], '^(%d+),(%d+)$')
  if not n or tonumber(n) < 1 then return redis.error_reply('ERR jobd: batch must be N,OFFSET with N >= 1') end
  n, offset = tonumber(n), tonumber(offset)
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], offset, offset + n - 1)) do
    retry(id)
    looked = looked + 1
  end
else
  return redis.error_reply('ERR jobd: mode must be ids or all')
end
return {moved, kept, looked}
