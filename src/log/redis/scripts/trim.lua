-- trim.lua: applies retention. Events go oldest first (positions stay contiguous); the last
-- trimmed id is remembered so a cursor at it continues seamlessly. Dedup keys are dropped
-- by their own age only: they outlive their events for the whole dedup window.
--
-- KEYS[1] meta hash (pos, trimmed, trimmedPos)   KEYS[2] events stream   KEYS[3] ids hash
-- KEYS[4] dedup hash   KEYS[5] dedup-at zset   KEYS[6] groups hash (name -> floor)
-- ARGV[1] age cutoff as the smallest ULID to keep ('' = no age limit)
-- ARGV[2] events to keep ('' = no count limit)   ARGV[3] dedup cutoff (ms since epoch)
-- ARGV[4] prefix of the per-group deliveries hashes (followed by the group name)
-- ARGV[5] prefix of the per-group requeued sets (followed by the group name)
-- Returns { events removed, dedup keys removed }

local PAGE = 500
local head_pos = tonumber(redis.call('HGET', KEYS[1], 'pos') or '0')
local trimmed_pos = tonumber(redis.call('HGET', KEYS[1], 'trimmedPos') or '0')
local through = trimmed_pos

if ARGV[2] ~= '' then through = math.max(through, head_pos - tonumber(ARGV[2])) end
if ARGV[1] ~= '' then
  local from = '(' .. through .. '-0'
  local done = false
  while not done do
    local entries = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', PAGE)
    for _, entry in ipairs(entries) do
      if string.sub(entry[2][2], 3, 28) >= ARGV[1] then
        done = true
        break
      end
      through = tonumber(string.match(entry[1], '^(%d+)'))
    end
    if #entries < PAGE then done = true end
    from = '(' .. through .. '-0'
  end
end

local removed = 0
if through > trimmed_pos then
  local last_id
  local from = '(' .. trimmed_pos .. '-0'
  while true do
    local entries = redis.call('XRANGE', KEYS[2], from, through .. '-0', 'COUNT', PAGE)
    if #entries == 0 then break end
    local ids = {}
    for i, entry in ipairs(entries) do ids[i] = string.sub(entry[2][2], 3, 28) end
    redis.call('HDEL', KEYS[3], unpack(ids))
    last_id = ids[#ids]
    from = '(' .. entries[#entries][1]
  end
  redis.call('XTRIM', KEYS[2], 'MINID', (through + 1) .. '-0')
  redis.call('HSET', KEYS[1], 'trimmed', last_id, 'trimmedPos', through)
  for _, group in ipairs(redis.call('HKEYS', KEYS[6])) do
    redis.call('ZREMRANGEBYSCORE', ARGV[5] .. group, '-inf', through)
    local deliveries = ARGV[4] .. group
    local flat = redis.call('HGETALL', deliveries)
    for i = 1, #flat, 2 do
      if tonumber(flat[i]) <= through then redis.call('HDEL', deliveries, flat[i]) end
    end
  end
  removed = through - trimmed_pos
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[3])
for i = 1, #expired, PAGE do
  local chunk = { unpack(expired, i, math.min(i + PAGE - 1, #expired)) }
  redis.call('HDEL', KEYS[4], unpack(chunk))
  redis.call('ZREM', KEYS[5], unpack(chunk))
end
return { removed, #expired }
