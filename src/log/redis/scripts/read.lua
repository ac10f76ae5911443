-- read.lua: resolves a read cursor to the position a read starts after. The pages themselves
-- come from plain XRANGE calls: XRANGE's reply costs the server a fraction of what handing
-- the same entries through Lua does.
--
-- KEYS[1] meta hash (head, pos, trimmed, trimmedPos)   KEYS[2] ids hash (ulid -> pos)
-- ARGV[1] cursor kind: 'null' | 'start' (LOG_START) | 'ulid' | 'other' (not a ULID)
-- ARGV[2] the cursor ('' unless kind is 'ulid')
-- Returns { start pos (0 = oldest retained), 1 if truncated else 0, head ('' = none),
--           position of the last trimmed event (0 = none), position of the head (0 = none),
--           id of the last trimmed event ('' = none) }

local meta = redis.call('HMGET', KEYS[1], 'head', 'trimmed', 'trimmedPos', 'pos')
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
end
return { pos, truncated, meta[1] or '', tonumber(meta[3] or '0'), tonumber(meta[4] or '0'), trimmed or '' }
