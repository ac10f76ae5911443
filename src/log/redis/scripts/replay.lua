-- replay.lua: makes events pending again for a group with a fresh delivery count, whatever
-- their state, at or below the floor too; creates the group at the start of the log if it
-- does not exist. All or none. Prefixed with group-lib.lua.
--
-- KEYS[1] groups hash   KEYS[2] the group's deliveries hash   KEYS[3] the group's requeued set
-- KEYS[4] ids hash
-- ARGV[1] group   ARGV[2..] event ids
-- Returns { 'ok', the ids deduplicated in log order }, or { 'unknown_event', the ids the log
-- does not hold } when nothing was changed

local chosen, unknown = positions_of(KEYS[4], 2)
if not chosen then return unknown_reply(unknown) end
local floor = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if floor == nil then
  floor = 0
  redis.call('HSET', KEYS[1], ARGV[1], 0)
end
local out = { 'ok' }
for _, c in ipairs(chosen) do
  reopen(KEYS[2], KEYS[3], floor, c.pos)
  out[#out + 1] = c.id
end
return out
