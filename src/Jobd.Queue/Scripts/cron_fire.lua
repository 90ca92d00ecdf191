#!lua flags=allow-oom
-- cron_fire: enqueues the job of one cron fire, unless this fire time or a later one of the same schedule was
-- enqueued already. Every replica computes the fire times itself and calls this at each one; the first call for
-- time T wins and later calls for T, or for anything before T, write nothing: one job per fire time, whatever the
-- number of replicas or restarts. (PROTOCOL.md, "Cron")
-- Helpers (now_ms, wake, wake_timer, push_queue) come from common.lua.
-- KEYS[1] cron hash      {P}:cron         schedule name -> last fire time enqueued, Unix ms
-- KEYS[2] job hash       {P}:job:<id>
-- KEYS[3] queue list     {P}:q:<queue>
-- KEYS[4] scheduled set  {P}:scheduled
-- KEYS[5] wake list      {P}:wake         a new earliest scheduled job's token; ready jobs' go to {P}:wake:<queue>
-- KEYS[6] queues set     {P}:queues
-- ARGV[1] schedule name  1-40 of A-Z a-z 0-9 _
-- ARGV[2] fire time      Unix ms
-- ARGV[3] job id         1-64 of A-Z a-z 0-9 _ . : - (jobd uses cron:<name>:<fire time>)
-- ARGV[4] type           ARGV[5] queue (the name inside KEYS[3])   ARGV[6] args, a JSON object
-- ARGV[7] early ms       how far ahead of Redis' clock a fire time may be: the caller's clock estimate's error
-- Returns {status, now, last}: status 1 enqueued (ready; scheduled if still ahead of Redis' clock), 0 nothing
-- written because a fire at or after this time was enqueued already, -1 nothing written because the fire time is
-- more than ARGV[7] ms ahead of Redis' clock (the caller's clock runs fast; it should re-sync and wait). now is
-- Redis' clock (ms), last the schedule's last enqueued fire time after the call (0 if none).
local function refuse(msg) return redis.error_reply('ERR jobd: ' .. msg) end
local function name_ok(s, max, pattern) return #s >= 1 and #s <= max and string.find(s, pattern) ~= nil end

local name, id, jtype, queue, args = ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local fire = tonumber(ARGV[2])
if not name_ok(name, 40, '^[%w_]+$') then return refuse('schedule name must be 1-40 of A-Z a-z 0-9 _') end
if not fire or fire ~= math.floor(fire) or fire < 0 then return refuse('fire time must be Unix ms') end
if not name_ok(id, 64, '^[%w_%.:%-]+$') then return refuse('id must be 1-64 of A-Z a-z 0-9 _ . : -') end
if not name_ok(jtype, 128, '^[%w_%.:%-]+$') then return refuse('type must be 1-128 of A-Z a-z 0-9 _ . : -') end
if not name_ok(queue, 64, '^[%w_%-]+$') then return refuse('queue must be 1-64 of A-Z a-z 0-9 _ -') end
if string.sub(KEYS[3], -(#queue + 3)) ~= ':q:' .. queue then return refuse('KEYS[3] is not the list of queue ' .. queue) end
if string.sub(args, 1, 1) ~= '{' then return refuse('args must be a JSON object') end

local now = now_ms()
local last = tonumber(redis.call('HGET', KEYS[1], name) or '0')
if fire <= last then return {0, now, last} end
if fire > now + tonumber(ARGV[7]) then return {-1, now, last} end
redis.call('HSET', KEYS[1], name, fire)
-- The id is the fire's own; it can exist only if the cron hash was edited by hand. Then the fire is done already.
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, now, fire} end

local state = fire <= now and 'ready' or 'scheduled'
redis.call('HSET', KEYS[2], 'type', jtype, 'queue', queue, 'args', args, 'state', state,
  'attempt', 0, 'max_attempts', 25, 'timeout_ms', '', 'recoveries', 0,
  'enqueued_at', now, 'run_at', fire, 'unique', '')
redis.call('SADD', KEYS[6], queue)
if state == 'ready' then
  if not push_queue(KEYS[3], id, false, KEYS[4], KEYS[2], now) then wake(KEYS[5], queue) end
else
  redis.call('ZADD', KEYS[4], fire, id)
  local first = redis.call('ZRANGE', KEYS[4], 0, 0)
  if first[1] == id then wake_timer(KEYS[5]) end
end
return {1, now, fire}
