-- seek-group.lua: moves a group (creating it): every event after a position is pending again
-- with a fresh delivery count, every event at or before it resolved; dead letters at or
-- before it are kept. Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] groups hash   KEYS[3] the group's deliveries hash
-- KEYS[4] the group's requeued set   KEYS[5] ids hash
-- ARGV[1] group   ARGV[2] the id to move after   ARGV[3] the log's start (LOG_START)
-- Returns 1 when moved, 0 (nothing changed) when the id is none of: a retained event, the
-- start or the last id trimmed (both position 0), the head

local after = ARGV[2]
local meta = redis.call('HMGET', KEYS[1], 'head', 'pos', 'trimmed')
local floor = tonumber(redis.call('HGET', KEYS[5], after))
if floor == nil then
  if after == ARGV[3] or after == meta[3] then
    floor = 0
  elseif after == meta[1] then
    floor = num(meta[2])
  else
    return 0
  end
end
redis.call('HSET', KEYS[2], ARGV[1], floor)
redis.call('DEL', KEYS[4])
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat, 2 do
  if tonumber(flat[i]) > floor or string.sub(flat[i + 1], 1, 4) ~= 'dead' then redis.call('HDEL', KEYS[3], flat[i]) end
end
return 1
