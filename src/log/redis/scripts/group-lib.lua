-- group-lib.lua: helpers the consumer-group scripts share; the loader puts this text in
-- front of claim.lua, peek.lua, settle.lua and group-state.lua. A group has a floor (every
-- position at or below it is resolved) and, per delivered position above it, a delivery
-- "state count leaseUntil deadAt". Positions are contiguous: the stream keeps positions
-- trimmedPos+1 .. pos.

local function num(text)
  return tonumber(text or '0')
end

local function pos_of(stream_id)
  return tonumber(string.match(stream_id, '^(%d+)'))
end

-- An entry's event JSON, and its header [id, type, source, subject?] decoded on demand.
local function body_of(entry)
  local value = entry[2][2]
  return string.sub(value, string.find(value, '\n', 1, true) + 1)
end

local function header_of(entry)
  local value = entry[2][2]
  return cjson.decode(string.sub(value, 1, string.find(value, '\n', 1, true) - 1))
end

local function parse_delivery(raw)
  local state, count, lease, dead = string.match(raw, '^(%a+) (%d+) (%d+) (%d+)$')
  return { state = state, count = tonumber(count), lease = tonumber(lease), dead = tonumber(dead) }
end

local function get_delivery(key, pos)
  local raw = redis.call('HGET', key, pos)
  if not raw then return nil end
  return parse_delivery(raw)
end

local function put_delivery(key, pos, d)
  redis.call('HSET', key, pos, d.state .. ' ' .. d.count .. ' ' .. string.format('%.0f', d.lease) .. ' ' .. string.format('%.0f', d.dead))
end

local function claimable(d, now)
  return d == nil or (d.state == 'leased' and d.lease <= now)
end

-- Where a group's scan starts: its floor, or the oldest retained event if that is later.
local function scan_start(meta, floor)
  return math.max(floor, num(redis.call('HGET', meta, 'trimmedPos')))
end

-- Moves the floor over every resolved position right above it and forgets acked deliveries
-- at or below the new floor.
local function advance_floor(meta, groups, deliveries, group, floor)
  local head_pos = num(redis.call('HGET', meta, 'pos'))
  local p = scan_start(meta, floor)
  while p < head_pos do
    local d = get_delivery(deliveries, p + 1)
    if d == nil or d.state == 'leased' then break end
    p = p + 1
  end
  if p <= floor then return end
  redis.call('HSET', groups, group, p)
  local flat = redis.call('HGETALL', deliveries)
  for i = 1, #flat, 2 do
    if tonumber(flat[i]) <= p and string.sub(flat[i + 1], 1, 5) == 'acked' then redis.call('HDEL', deliveries, flat[i]) end
  end
end

-- Calls visit(pos, entry, delivery) for each claimable event after the group's floor, in
-- log order, until visit returns true, the log ends, or max_scan events were examined.
local function scan_claimable(meta, events, deliveries, floor, now, max_scan, visit)
  local PAGE = 256
  local from = scan_start(meta, floor)
  local examined = 0
  while examined < max_scan do
    local entries = redis.call('XRANGE', events, '(' .. from .. '-0', '+', 'COUNT', PAGE)
    for _, entry in ipairs(entries) do
      local pos = pos_of(entry[1])
      from = pos
      local d = get_delivery(deliveries, pos)
      if claimable(d, now) then
        examined = examined + 1
        if visit(pos, entry, d) then return end
      end
    end
    if #entries < PAGE then return end
  end
end
