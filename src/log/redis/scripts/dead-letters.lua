-- dead-letters.lua: requeues dead letters of a group (pending again with a fresh delivery
-- count) or purges them (resolved for good), chosen by id or by filter, in log order, at most
-- a limit. Named ids the group holds no dead letter for are left out. Prefixed with
-- group-lib.lua.
--
-- KEYS[1] meta hash   KEYS[2] events stream   KEYS[3] groups hash   KEYS[4] the group's deliveries hash
-- KEYS[5] the group's requeued set   KEYS[6] ids hash
-- ARGV[1] group   ARGV[2] 'requeue' | 'purge'   ARGV[3] limit   ARGV[4] filter JSON ('' = all)
-- ARGV[5] '1' when ids are named   ARGV[6..] the named ids
-- Returns { 'ok', the ids requeued or purged }, or { 'unknown_event', the named ids the log
-- does not hold } when nothing was changed

local group, mode, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local named, unknown
if ARGV[5] == '1' then
  named, unknown = positions_of(KEYS[6], 6)
  if not named then return unknown_reply(unknown) end
end
local floor = tonumber(redis.call('HGET', KEYS[3], group))
if floor == nil then return { 'ok' } end

local chosen = {}
local function choose(pos, id, d)
  if #chosen < limit and d and d.state == 'dead' then chosen[#chosen + 1] = { pos = pos, id = id, d = d } end
end
if named then
  for _, c in ipairs(named) do choose(c.pos, c.id, get_delivery(KEYS[4], c.pos)) end
else
  local matches = entry_matcher(ARGV[4])
  local dead = {}
  local flat = redis.call('HGETALL', KEYS[4])
  for i = 1, #flat, 2 do
    if string.sub(flat[i + 1], 1, 4) == 'dead' then dead[#dead + 1] = tonumber(flat[i]) end
  end
  table.sort(dead)
  for _, pos in ipairs(dead) do
    if #chosen == limit then break end
    local entry = entry_at(KEYS[2], pos)
    if matches(entry) then choose(pos, id_of(entry), get_delivery(KEYS[4], pos)) end
  end
end

local out = { 'ok' }
for _, c in ipairs(chosen) do
  if mode == 'requeue' then
    reopen(KEYS[4], KEYS[5], floor, c.pos)
  else
    resolve(KEYS[4], KEYS[5], floor, c.pos, c.d)
  end
  out[#out + 1] = c.id
end
if mode == 'purge' and #chosen > 0 then advance_floor(KEYS[1], KEYS[3], KEYS[4], group, floor) end
return out
