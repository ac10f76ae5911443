-- settle.lua: acks or releases events for a group, all or none. Each id must be in the log
-- and currently delivered to the group (not made pending again since), neither acked nor
-- dead-lettered; an id given with a delivery count (fenced) must still be at that delivery,
-- not claimed again since. Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] groups hash   KEYS[3] the group's deliveries hash   KEYS[4] ids hash
-- KEYS[5] the group's requeued set
-- ARGV[1] group   ARGV[2] 'ack' | 'release'   ARGV[3..] pairs: event id, delivery count (0 = unfenced)
-- Returns {} when done, or { error code, then per id it is about: id, latest delivery count,
-- count given } when nothing was changed; the code is that of the first offending id

local group, mode = ARGV[1], ARGV[2]
local floor = tonumber(redis.call('HGET', KEYS[2], group))
local positions, problems, first_code = {}, {}, nil

local function note(code, id, latest, given)
  if problems[code] == nil then problems[code] = {} end
  local list = problems[code]
  list[#list + 1] = id
  list[#list + 1] = latest or 0
  list[#list + 1] = given or 0
  first_code = first_code or code
end

for i = 3, #ARGV, 2 do
  local id, given = ARGV[i], tonumber(ARGV[i + 1])
  local pos = tonumber(redis.call('HGET', KEYS[4], id))
  if pos == nil then
    note('unknown_event', id)
  else
    local d = floor and get_delivery(KEYS[3], pos)
    if d and d.state == 'leased' and d.count > 0 then
      if given == 0 or given == d.count then
        positions[#positions + 1] = { pos, d }
      else
        note('lease_lost', id, d.count, given)
      end
    elseif (d and d.state == 'acked') or (not d and floor and pos <= floor) then
      note('already_acked', id)
    elseif d and d.state == 'dead' then
      note('dead_lettered', id)
    else
      note('not_delivered', id)
    end
  end
end

if first_code then
  local out = { first_code }
  for _, value in ipairs(problems[first_code]) do out[#out + 1] = value end
  return out
end

for _, item in ipairs(positions) do
  local pos, d = item[1], item[2]
  if mode == 'ack' then
    resolve(KEYS[3], KEYS[5], floor, pos, d)
  else
    d.lease = 0
    put_delivery(KEYS[3], pos, d)
  end
end
if mode == 'ack' then advance_floor(KEYS[1], KEYS[2], KEYS[3], group, floor) end
return {}
