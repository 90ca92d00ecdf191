#!lua
-- dead_purge: deletes dead jobs, hash and dead-set entry, in batches (`jobd dead purge`).
-- KEYS[1] dead set       {P}:dead          id -> time of death
-- ARGV[1] key prefix     "{P}:" (job keys are built from it; same slot as KEYS[1])
-- ARGV[2] queue filter   "" any queue; otherwise only jobs of this queue
-- ARGV[3] batch size N   look at up to N dead entries, oldest first
-- ARGV[4] offset         the rank to start at (entries of other queues stay and are skipped by the caller)
-- Returns {purged, kept, looked}: jobs deleted; entries looked at that stay (another queue, or no longer dead);
-- entries looked at. An entry whose hash is gone (expired) is dropped and not counted as purged. The caller
-- repeats with offset + kept until looked < N.
local P, filter = ARGV[1], ARGV[2]
local n, offset = tonumber(ARGV[3]), tonumber(ARGV[4])
if not n or n < 1 or not offset or offset < 0 then return redis.error_reply('ERR jobd: batch must be >= 1, offset >= 0') end
local purged, kept, looked = 0, 0, 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], offset, offset + n - 1)) do
  looked = looked + 1
  local job_key = P .. 'job:' .. id
  local state, queue = unpack(redis.call('HMGET', job_key, 'state', 'queue'))
  if not state then
    redis.call('ZREM', KEYS[1], id)
  elseif state ~= 'dead' or filter ~= '' and queue ~= filter then
    kept = kept + 1
  else
    redis.call('DEL', job_key)
    redis.call('ZREM', KEYS[1], id)
    purged = purged + 1
  end
end
return {purged, kept, looked}
