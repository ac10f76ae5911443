-- claim.lua: leases a group's next claimable events in log order: requeued ones at or below
-- the floor first, then those after it never delivered or whose lease expired; an expired
-- event already delivered maxDeliveries times is dead-lettered instead. Creates the group at
-- the start of the log if it does not exist. Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- KEYS[5] the group's requeued set
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] lease end (ms)   ARGV[4] limit
-- ARGV[5] maxDeliveries   ARGV[6] filter JSON ('' = everything)   ARGV[7] max events examined
-- Returns { event JSON, delivery count, ... } for the leased events

local group, now, lease_until = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, max_deliveries = tonumber(ARGV[4]), tonumber(ARGV[5])
local matches = entry_matcher(ARGV[6])

local floor = tonumber(redis.call('HGET', KEYS[3], group))
if floor == nil then
  floor = 0
  redis.call('HSET', KEYS[3], group, 0)
end

local out = {}
local claimed, dead_lettered = 0, false
scan_claimable(KEYS[1], KEYS[2], KEYS[4], KEYS[5], floor, now, tonumber(ARGV[7]), function(pos, entry, d)
  local count = d and d.count or 0
  if count >= max_deliveries then
    put_delivery(KEYS[4], pos, { state = 'dead', count = count, lease = 0, dead = now })
    redis.call('ZREM', KEYS[5], pos)
    dead_lettered = true
    return false
  end
  if not matches(entry) then return false end
  put_delivery(KEYS[4], pos, { state = 'leased', count = count + 1, lease = lease_until, dead = 0 })
  out[#out + 1] = body_of(entry)
  out[#out + 1] = count + 1
  claimed = claimed + 1
  return claimed >= limit
end)
if dead_lettered then advance_floor(KEYS[1], KEYS[3], KEYS[4], group, floor) end
return out
