-- common: helpers prepended to take.lua and tick.lua when they are loaded (after their #!lua line).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- One token per ready job wakes one idle worker; the cap bounds the list while no worker waits.
local function wake(wake_key)
  redis.call('LPUSH', wake_key, '1')
  redis.call('LTRIM', wake_key, 0, 999)
end

-- The uniqueness key is released only by the job that holds it. Pass the job's 'unique' field when already read.
local function release_unique(P, job_key, id, u)
  if u == nil then u = redis.call('HGET', job_key, 'unique') end
  if u and u ~= '' and redis.call('GET', P .. 'unique:' .. u) == id then redis.call('DEL', P .. 'unique:' .. u) end
end

-- Dead jobs are kept dead_ttl ms and at most dead_cap of them: the oldest go first, hash and all.
local function to_dead(P, dead_key, job_key, id, reason, now, dead_ttl, dead_cap)
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
