-- create-group.lua: creates a consumer group unless it exists, at the start of the log or
-- after its current head, read in the same step so no append can fall between.
--
-- KEYS[1] meta hash   KEYS[2] groups hash
-- ARGV[1] group   ARGV[2] 'start' | 'now'
-- Returns 1 when created, 0 when the group existed

local floor = 0
if ARGV[2] == 'now' then floor = tonumber(redis.call('HGET', KEYS[1], 'pos') or '0') end
return redis.call('HSETNX', KEYS[2], ARGV[1], floor)
