-- deliveries-of.lua: what every group holds about one event, read in one snapshot.
--
-- KEYS[1] ids hash   KEYS[2] groups hash
-- ARGV[1] event id   ARGV[2] prefix of the per-group deliveries hashes (followed by the name)
-- Returns {} when the log does not hold the event, else { its position, then per group:
--          name, floor, its delivery "state count leaseUntil deadAt" ('' = none) }

local pos = redis.call('HGET', KEYS[1], ARGV[1])
if not pos then return {} end
local out = { tonumber(pos) }
local flat = redis.call('HGETALL', KEYS[2])
for i = 1, #flat, 2 do
  out[#out + 1] = flat[i]
  out[#out + 1] = tonumber(flat[i + 1])
  out[#out + 1] = redis.call('HGET', ARGV[2] .. flat[i], pos) or ''
end
return out
