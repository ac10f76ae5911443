-- claim.lua: leases a group's next claimable events (never-delivered, or lease expired) in
-- log order; an expired event already delivered maxDeliveries times is dead-lettered
-- instead. Creates the group at the start of the log if it does not exist.
-- Prefixed with group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- ARGV[1] group   ARGV[2] now (ms)   ARGV[3] lease end (ms)   ARGV[4] limit
-- ARGV[5] maxDeliveries   ARGV[6] filter JSON ('' = everything)   ARGV[7] max events examined
-- Returns { event JSON, delivery count, ... } for the leased events

local group, now, lease_until = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, max_deliveries = tonumber(ARGV[4]), tonumber(ARGV[5])

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

local types, sources, subjects
if ARGV[6] ~= '' then
  local filter = cjson.decode(ARGV[6])
  types, sources, subjects = compile(filter.types), compile(filter.sources), compile(filter.subjects)
end

local floor = tonumber(redis.call('HGET', KEYS[3], group))
if floor == nil then
  floor = 0
  redis.call('HSET', KEYS[3], group, 0)
end

local out = {}
local claimed, dead_lettered = 0, false
local filtered = types or sources or subjects
scan_claimable(KEYS[1], KEYS[2], KEYS[4], floor, now, tonumber(ARGV[7]), function(pos, entry, d)
  local count = d and d.count or 0
  if count >= max_deliveries then
    put_delivery(KEYS[4], pos, { state = 'dead', count = count, lease = 0, dead = now })
    dead_lettered = true
    return false
  end
  if filtered then
    local h = header_of(entry)
    if not (field_matches(types, h[2]) and field_matches(sources, h[3]) and field_matches(subjects, h[4])) then return false end
  end
  put_delivery(KEYS[4], pos, { state = 'leased', count = count + 1, lease = lease_until, dead = 0 })
  out[#out + 1] = body_of(entry)
  out[#out + 1] = count + 1
  claimed = claimed + 1
  return claimed >= limit
end)
if dead_lettered then advance_floor(KEYS[1], KEYS[3], KEYS[4], group, floor) end
return out
