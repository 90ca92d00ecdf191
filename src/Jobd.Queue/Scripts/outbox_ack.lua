#!lua flags=allow-oom
-- outbox_ack: the result sink has committed these outcomes to Postgres; they leave the outbox. Acknowledged
-- and deleted together, so an entry is never left counted in the outbox but delivered to no one.
-- KEYS[1] outbox stream  {P}:outbox
-- ARGV[1] consumer group ("sink")   ARGV[2..] entry ids
-- Returns the number of entries deleted.
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
return redis.call('XDEL', KEYS[1], unpack(ids))
