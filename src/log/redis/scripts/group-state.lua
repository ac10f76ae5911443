-- group-state.lua: a group's counts and dead letters, read in one snapshot.
-- Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] dead letters to list (0 = none)
-- Returns { pending, leased, dead-lettered, then per listed dead letter (oldest first):
--           event JSON, delivery count, dead-lettered at (ms) }

local now, want = tonumber(ARGV[2]), tonumber(ARGV[3])
local trimmed_pos = num(redis.call('HGET', KEYS[1], 'trimmedPos'))
local start = scan_start(KEYS[1], num(redis.call('HGET', KEYS[3], ARGV[1])))
local resolved_above, leased, dead = 0, 0, {}
local flat = redis.call('HGETALL', KEYS[4])
for i = 1, #flat, 2 do
  local pos = tonumber(flat[i])
  if pos > trimmed_pos then
    local d = parse_delivery(flat[i + 1])
    if d.state == 'dead' then dead[#dead + 1] = { pos, d } end
    if pos > start and d.state ~= 'leased' then resolved_above = resolved_above + 1 end
    if d.state == 'leased' and d.lease > now then leased = leased + 1 end
  end
end

local out = { num(redis.call('HGET', KEYS[1], 'pos')) - start - resolved_above, leased, #dead }
table.sort(dead, function(a, b) return a[1] < b[1] end)
for i = 1, math.min(want, #dead) do
  local pos, d = dead[i][1], dead[i][2]
  local entry = redis.call('XRANGE', KEYS[2], pos .. '-0', pos .. '-0')[1]
  out[#out + 1] = body_of(entry)
  out[#out + 1] = d.count
  out[#out + 1] = string.format('%.0f', d.dead)
end
return out
