-- group-state.lua: a group's floor, counts, next claimable event and dead letters, read in
-- one snapshot. Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- KEYS[5] the group's requeued set
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] dead letters to list (0 = none)
-- ARGV[4] maxDeliveries, to find the event the next claim leases first (0 = do not look)
-- Returns { 1 if the group exists else 0, floor id ('' = the start), pending, leased,
--           dead-lettered, id of the next claimable event ('' = none or not looked for),
--           then per listed dead letter (oldest first): event JSON, delivery count,
--           dead-lettered at (ms) }

local now, want, max_deliveries = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local trimmed_pos = num(redis.call('HGET', KEYS[1], 'trimmedPos'))
local stored_floor = redis.call('HGET', KEYS[3], ARGV[1])
local floor = num(stored_floor)
local start = scan_start(KEYS[1], floor)
local resolved_above, reopened_below, leased, dead = 0, 0, 0, {}
local flat = redis.call('HGETALL', KEYS[4])
for i = 1, #flat, 2 do
  local pos = tonumber(flat[i])
  if pos > trimmed_pos then
    local d = parse_delivery(flat[i + 1])
    if d.state == 'dead' then dead[#dead + 1] = { pos, d } end
    if pos > start and d.state ~= 'leased' then resolved_above = resolved_above + 1 end
    if pos <= start and d.state == 'leased' then reopened_below = reopened_below + 1 end
    if d.state == 'leased' and d.lease > now then leased = leased + 1 end
  end
end

local floor_entry = entry_at(KEYS[2], floor)
local floor_id = floor_entry and id_of(floor_entry) or redis.call('HGET', KEYS[1], 'trimmed') or ''
local oldest = ''
if stored_floor and max_deliveries > 0 then
  peek_claimable(KEYS[1], KEYS[2], KEYS[4], KEYS[5], floor, now, 1, max_deliveries, function(entry) oldest = id_of(entry) end)
end
local pending = num(redis.call('HGET', KEYS[1], 'pos')) - start - resolved_above + reopened_below
local out = { stored_floor and 1 or 0, floor_id, pending, leased, #dead, oldest }
table.sort(dead, function(a, b) return a[1] < b[1] end)
for i = 1, math.min(want, #dead) do
  local pos, d = dead[i][1], dead[i][2]
  out[#out + 1] = body_of(entry_at(KEYS[2], pos))
  out[#out + 1] = d.count
  out[#out + 1] = string.format('%.0f', d.dead)
end
return out
