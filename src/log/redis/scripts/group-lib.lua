-- group-lib.lua: helpers the consumer-group scripts share; the loader puts this text in
-- front of every script that reads or changes a group. A group has a floor (every position
-- at or below it is resolved, but those made pending again) and, per delivered position
-- above it, a delivery "state count leaseUntil deadAt"; dead letters keep theirs below the
-- floor too. An event made pending again (requeued, replayed) gets an open row never leased:
-- "leased 0 0 0"; at or below the floor its position is also in the group's requeued sorted
-- set (scored by position), which claims read before the events above the floor. Positions
-- are contiguous: the stream keeps positions trimmedPos+1 .. pos.

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

-- The event id in an entry's header.
local function id_of(entry)
  return string.sub(entry[2][2], 3, 28)
end

local function entry_at(events, pos)
  return redis.call('XRANGE', events, pos .. '-0', pos .. '-0')[1]
end

-- A filter list as globs split at "*" into literal parts; nil matches everything. Matched
-- without backtracking, as src/events/filter.ts does: the first part is a prefix, the last a
-- suffix, each part between is found as plain text at its leftmost place. A Lua pattern of
-- many ".*" would backtrack for as long as it likes, inside Redis.
local function compile(list)
  if list == nil or #list == 0 then return nil end
  local globs = {}
  for _, entry in ipairs(list) do
    if entry == '*' then return nil end
    local parts = {}
    for part in string.gmatch(entry .. '*', '([^*]*)%*') do parts[#parts + 1] = part end
    globs[#globs + 1] = parts
  end
  return globs
end

local function glob_matches(parts, value)
  local n = #parts
  if n == 1 then return value == parts[1] end
  local first, last = parts[1], parts[n]
  if #value < #first + #last or string.sub(value, 1, #first) ~= first then return false end
  if #last > 0 and string.sub(value, -#last) ~= last then return false end
  local at, stop = #first + 1, #value - #last
  for i = 2, n - 1 do
    local part = parts[i]
    if #part > 0 then
      local found, ends = string.find(value, part, at, true)
      if found == nil or ends > stop then return false end
      at = ends + 1
    end
  end
  return true
end

local function field_matches(globs, value)
  if globs == nil then return true end
  if value == nil then return false end
  for _, parts in ipairs(globs) do
    if glob_matches(parts, value) then return true end
  end
  return false
end

-- A filter's JSON ('' = everything) as a test of a stream entry.
local function entry_matcher(json)
  local types, sources, subjects
  if json ~= '' then
    local filter = cjson.decode(json)
    types, sources, subjects = compile(filter.types), compile(filter.sources), compile(filter.subjects)
  end
  if not (types or sources or subjects) then return function() return true end end
  return function(entry)
    local h = header_of(entry)
    return field_matches(types, h[2]) and field_matches(sources, h[3]) and field_matches(subjects, h[4])
  end
end

-- Makes pos pending again with a fresh delivery count.
local function reopen(deliveries, requeued, floor, pos)
  put_delivery(deliveries, pos, { state = 'leased', count = 0, lease = 0, dead = 0 })
  if pos <= floor then redis.call('ZADD', requeued, pos, pos) end
end

-- Resolves pos for good: at or below the floor the floor says so and the row goes; above it
-- the row is acked.
local function resolve(deliveries, requeued, floor, pos, d)
  if pos <= floor then
    redis.call('HDEL', deliveries, pos)
    redis.call('ZREM', requeued, pos)
  else
    put_delivery(deliveries, pos, { state = 'acked', count = d.count, lease = 0, dead = 0 })
  end
end

-- Calls visit(pos, entry, delivery) for each claimable event in log order — first the
-- requeued ones at or below the floor, then those after it — until visit returns true, the
-- log ends, or max_scan events were examined.
local function scan_claimable(meta, events, deliveries, requeued, floor, now, max_scan, visit)
  local PAGE = 256
  local examined = 0
  local after = 0
  repeat
    local members = redis.call('ZRANGEBYSCORE', requeued, '(' .. after, '+inf', 'LIMIT', 0, PAGE)
    for _, member in ipairs(members) do
      local pos = tonumber(member)
      after = pos
      local d = get_delivery(deliveries, pos)
      if claimable(d, now) then
        examined = examined + 1
        if visit(pos, entry_at(events, pos), d) or examined >= max_scan then return end
      end
    end
  until #members < PAGE
  local from = scan_start(meta, floor)
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

-- Hands take(entry) the events the group's next claims would lease, in log order, at most
-- limit: not those the next claim dead-letters.
local function peek_claimable(meta, events, deliveries, requeued, floor, now, limit, max_deliveries, take)
  local taken = 0
  scan_claimable(meta, events, deliveries, requeued, floor, now, math.huge, function(_, entry, d)
    if (d and d.count or 0) >= max_deliveries then return false end
    take(entry)
    taken = taken + 1
    return taken >= limit
  end)
end

-- The positions of the event ids ARGV[first..], deduplicated, in log order, as { pos, id }
-- records; or nil and the ids the log does not hold.
local function positions_of(ids, first)
  local found, seen, unknown = {}, {}, {}
  for i = first, #ARGV do
    local pos = tonumber(redis.call('HGET', ids, ARGV[i]))
    if pos == nil then
      unknown[#unknown + 1] = ARGV[i]
    elseif not seen[pos] then
      seen[pos] = true
      found[#found + 1] = { pos = pos, id = ARGV[i] }
    end
  end
  if #unknown > 0 then return nil, unknown end
  table.sort(found, function(a, b) return a.pos < b.pos end)
  return found
end

-- The reply of a script refused for ids the log does not hold: { 'unknown_event', id, ... }.
local function unknown_reply(unknown)
  local out = { 'unknown_event' }
  for _, id in ipairs(unknown) do out[#out + 1] = id end
  return out
end
