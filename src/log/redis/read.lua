-- read.lua: resolves a read cursor and returns the first page after it, in one snapshot, so
-- a trim cannot slip between deciding where to start and reading from there. Also reads
-- later pages, by position.
--
-- KEYS[1] meta hash (head, trimmed)   KEYS[2] ids hash (ulid -> pos)   KEYS[3] events stream
-- ARGV[1] cursor kind: 'null' | 'start' (LOG_START) | 'ulid' | 'other' (not a ULID) |
--         'pos' (a later page: entries after position ARGV[2])
-- ARGV[2] the cursor ('' unless kind is 'ulid' or 'pos')   ARGV[3] page size
-- Returns { start pos (0 = oldest retained), 1 if truncated else 0, head ('' = none), page }.
-- The page is ONE string: per entry `<entry id>\n<entry value>`, entries joined by '\n'
-- ('' when empty). A reply of a few strings rather than several per entry is what lets
-- a client decode a long replay quickly; JSON text never holds a raw newline.

local meta = redis.call('HMGET', KEYS[1], 'head', 'trimmed')
local trimmed = meta[2]
local pos, truncated = 0, 0
local kind = ARGV[1]
if kind == 'start' then
  if trimmed then truncated = 1 end
elseif kind == 'ulid' then
  local at = redis.call('HGET', KEYS[2], ARGV[2])
  if at then
    pos = tonumber(at)
  elseif ARGV[2] ~= trimmed then
    truncated = 1
  end
elseif kind == 'other' then
  truncated = 1
elseif kind == 'pos' then
  pos = tonumber(ARGV[2])
end
local entries = redis.call('XRANGE', KEYS[3], '(' .. pos .. '-0', '+', 'COUNT', ARGV[3])
local parts = {}
for i, entry in ipairs(entries) do
  parts[2 * i - 1] = entry[1]
  parts[2 * i] = entry[2][2]
end
return { pos, truncated, meta[1] or '', table.concat(parts, '\n') }
