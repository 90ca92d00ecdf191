#!lua flags=allow-oom
-- reclaim: run by a worker after (re)connecting. If a take's reply was lost with the connection, the job it
-- took is recorded in the worker's own hash while the worker believes it got nothing: put that job back at the
-- front of its queue, attempt unspent. A job the worker knows it runs is not passed (ARGV[2]) and is kept.
-- Helpers come from common.lua.
-- KEYS[1] leases set   {P}:leases
-- KEYS[2] worker hash  {P}:worker:<wid>
-- KEYS[3] wake prefix  {P}:wake       tokens go to the list {P}:wake:<queue>
-- ARGV[1] key prefix "{P}:"
-- ARGV[2] the token of the job this worker is running, or ""
-- Returns the id put back, or "" if there was none.
local P = ARGV[1]
local id, token = unpack(redis.call('HMGET', KEYS[2], 'job', 'token'))
if not id or id == '' or token == ARGV[2] then return '' end
local job_key = P .. 'job:' .. id
local state, job_token, attempt, queue = unpack(redis.call('HMGET', job_key, 'state', 'token', 'attempt', 'queue'))
redis.call('HSET', KEYS[2], 'job', '', 'token', '')
if state ~= 'running' or job_token ~= token then return '' end
redis.call('ZREM', KEYS[1], id)
redis.call('HSET', job_key, 'state', 'ready', 'token', '', 'attempt', math.max(0, tonumber(attempt) - 1))
if not push_queue(P .. 'q:' .. queue, id, true, P .. 'scheduled', job_key, now_ms()) then wake(KEYS[3], queue) end
return id
