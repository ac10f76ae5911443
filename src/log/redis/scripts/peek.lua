-- peek.lua: what the group's next claims would lease, without leasing anything or creating
-- the group. Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] limit
-- Returns { event JSON, ... }

local floor = num(redis.call('HGET', KEYS[3], ARGV[1]))
local limit = tonumber(ARGV[3])
local out = {}
scan_claimable(KEYS[1], KEYS[2], KEYS[4], floor, tonumber(ARGV[2]), limit, function(_, entry)
  out[#out + 1] = body_of(entry)
  return #out >= limit
end)
return out
