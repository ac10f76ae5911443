-- peek.lua: what the group's next claims would lease, without leasing anything or creating
-- the group: not the events the next claim dead-letters. Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- KEYS[5] the group's requeued set
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] limit   ARGV[4] maxDeliveries
-- Returns { event JSON, ... }

local out = {}
peek_claimable(KEYS[1], KEYS[2], KEYS[4], KEYS[5], num(redis.call('HGET', KEYS[3], ARGV[1])), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), function(entry)
  out[#out + 1] = body_of(entry)
end)
return out
