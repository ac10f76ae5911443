-- append.lua: commits a batch of events atomically, dedup and id assignment included.
-- Ids are minted here, under Redis's single-threaded script execution, from the stored head:
-- each is strictly greater than the one before it, whatever the callers' clocks say.
--
-- KEYS[1] meta hash (head, pos)      KEYS[2] events stream (see keys.ts for the entry)
-- KEYS[3] ids hash (ulid -> pos)     KEYS[4] dedup hash (source NUL sourceEventId -> ulid)
-- KEYS[5] dedup-at zset (dedup key scored by received ms)
-- ARGV[1] now (ms since epoch, the log's clock)   ARGV[2] 16 random base32 characters
-- ARGV[3] commit channel                           ARGV[4] the committing instance's token
-- ARGV[5..] per event, four values: source, sourceEventId, the entry header without its id
--           and opening bracket, and the event's JSON without its id and opening brace
-- Returns { head before the commit ('' = none), then per event: id, 1 if duplicate else 0,
--           the original's JSON for a duplicate ('' when trimmed or not a duplicate) }

local ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

local function digit(c)
  return string.find(ALPHABET, c, 1, true) - 1
end

local function ulid_time(id)
  local t = 0
  for i = 1, 10 do t = t * 32 + digit(string.sub(id, i, i)) end
  return t
end

local function encode_time(ms)
  local out = ''
  for _ = 1, 10 do
    local d = ms % 32
    out = string.sub(ALPHABET, d + 1, d + 1) .. out
    ms = (ms - d) / 32
  end
  return out
end

-- prev + 1 in base32, carrying into the time part if ever needed.
local function increment(id)
  local chars = {}
  for i = 1, #id do chars[i] = string.sub(id, i, i) end
  for i = #chars, 1, -1 do
    local d = digit(chars[i])
    if d < 31 then
      chars[i] = string.sub(ALPHABET, d + 2, d + 2)
      return table.concat(chars)
    end
    chars[i] = '0'
  end
  error('ULID space exhausted')
end

local function body_at(pos)
  local entry = redis.call('XRANGE', KEYS[2], pos .. '-0', pos .. '-0')[1]
  if not entry then return '' end
  local value = entry[2][2]
  return string.sub(value, string.find(value, '\n', 1, true) + 1)
end

local now = tonumber(ARGV[1])
local head = redis.call('HGET', KEYS[1], 'head')
local pos = tonumber(redis.call('HGET', KEYS[1], 'pos') or '0')
local out = { head or '' }
local committed = 0

for i = 5, #ARGV, 4 do
  local source, source_event_id, header_tail, tail = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = source .. '\0' .. source_event_id
  local existing = redis.call('HGET', KEYS[4], key)
  if existing then
    local at = redis.call('HGET', KEYS[3], existing)
    out[#out + 1] = existing
    out[#out + 1] = 1
    out[#out + 1] = at and body_at(at) or ''
  else
    if not head or now > ulid_time(head) then
      head = encode_time(now) .. ARGV[2]
    else
      head = increment(head)
    end
    pos = pos + 1
    local entry = '["' .. head .. '",' .. header_tail .. '\n{"id":"' .. head .. '",' .. tail
    redis.call('XADD', KEYS[2], pos .. '-0', 'e', entry)
    redis.call('HSET', KEYS[3], head, pos)
    redis.call('HSET', KEYS[4], key, head)
    redis.call('ZADD', KEYS[5], now, key)
    out[#out + 1] = head
    out[#out + 1] = 0
    out[#out + 1] = ''
    committed = committed + 1
  end
end

if committed > 0 then
  redis.call('HSET', KEYS[1], 'head', head, 'pos', pos)
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return out
