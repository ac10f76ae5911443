-- upsert-fact.lua: one write of a customer's key, atomically: a repeat of an event that
-- already wrote the key changes nothing; otherwise the write joins the key's history and
-- becomes current unless an event that happened later already wrote the key.
--
-- KEYS[1] the customer's facts hash (key -> stored write)
-- KEYS[2] the key's writes hash (event id -> stored write)
-- ARGV[1] key   ARGV[2] event id   ARGV[3] occurred at (ms since epoch)
-- ARGV[4] the stored write, JSON with at least occurredMs and eventId
-- Returns 'applied' | 'stale' | 'duplicate'

-- Compares by bytes, as the other backends order ids; Lua's own `>` follows the locale redis-server runs in.
local function bytes_greater(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end

local key, event_id, occurred = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HEXISTS', KEYS[2], event_id) == 1 then return 'duplicate' end
redis.call('HSET', KEYS[2], event_id, ARGV[4])
local current = redis.call('HGET', KEYS[1], key)
if current then
  local c = cjson.decode(current)
  local newer = occurred > c.occurredMs or (occurred == c.occurredMs and bytes_greater(event_id, c.eventId))
  if not newer then return 'stale' end
end
redis.call('HSET', KEYS[1], key, ARGV[4])
return 'applied'
