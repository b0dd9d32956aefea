-- Record segments, audiences, RFM, live counts and the change events, in one atomic step.
-- KEYS[1..n]: profile hashes; then the cluster counts hash, the outbox hash, the audience counts
-- hash, the RFM histogram hash and the due sorted set (customer id -> next re-evaluation, ms).
-- ARGV[1]: JSON, one row per KEYS[i]: [customer id, expected segment ("" = none), new segment,
--   since (epoch ms), event_id, change, audience part or null], the audience part being
--   [expected audiences, new audiences (comma separated), new RFM fields, next due ms (-1 = none),
--   [[event_id, change, audience, +1 | -1], ...]]; a change is the index in ARGV of its JSON.
-- ARGV[2..]: the change events' JSON, passed as they are: inside ARGV[1] they would be escaped
--   and decoded again for nothing.
-- A part whose expected value is no longer stored (another worker got there first during a
-- rebalance, or a timer and a batch raced) is left alone, and so is a profile that no longer exists
-- (the customer was forgotten, forget.lua, after its events were applied). A new segment equal to
-- the expected one is no change: only the pending mark ('a', set by apply_events) is cleared.
-- The segment's since is kept as ms before last_seen ('S', 0 = absent); RFM fields are kept
-- packed ('R'), with the functions of packing.lua, which are loaded ahead of this script.
-- Returns the event_ids of the change events recorded (the caller has their JSON).
-- Each profile gets at most one HSET and one HDEL, and the shared counts and the outbox one call
-- per field and one HSET at the end: per-call overhead, not the work, was most of this script's
-- time.
local n = #KEYS - 5
local counts, outbox, audience_counts, rfm, due =
  KEYS[n + 1], KEYS[n + 2], KEYS[n + 3], KEYS[n + 4], KEYS[n + 5]
local rows = cjson.decode(ARGV[1])
local recorded = {}
local pending = {}  -- outbox fields and values, flat
-- Net changes per hash and field; a count that ends at zero or below is removed, as a single
-- HINCRBY at a time would leave it.
local deltas = {[counts] = {}, [audience_counts] = {}, [rfm] = {}}
local function bump(hash, field, by)
  deltas[hash][field] = (deltas[hash][field] or 0) + by
end

local function record_change(event_id, change)
  pending[#pending + 1] = event_id
  pending[#pending + 1] = ARGV[change]
  recorded[#recorded + 1] = event_id
end

-- A field to write, or to remove when its value is '' or 0 and it is `stored`.
local function put(set, del, field, value, stored)
  if value ~= '' and value ~= 0 then
    set[#set + 1] = field
    set[#set + 1] = type(value) == 'number' and string.format('%d', value) or value
  elseif stored then
    del[#del + 1] = field
  end
end

for i = 1, n do
  local key = KEYS[i]
  local r = rows[i]
  if redis.call('EXISTS', key) == 1 then
    -- Each field asked for costs a search of the hash: the pending mark and a zero since are
    -- removed without asking whether they are there.
    local h = redis.call('HMGET', key, 's', 'au', 'R', 'l')
    local set, del = {}, {'a'}
    local current = h[1] or ''
    if current == r[2] and current ~= r[3] then
      set[#set + 1] = 's'
      set[#set + 1] = r[3]
      put(set, del, 'S', (tonumber(h[4]) or 0) - r[4], true)
      bump(counts, r[3], 1)
      if current ~= '' then bump(counts, current, -1) end
      record_change(r[5], r[6])
    end
    local a = r[7]
    if type(a) == 'table' and (h[2] or '') == a[1] then
      if a[2] ~= a[1] then put(set, del, 'au', a[2], h[2]) end
      for _, change in ipairs(a[5]) do
        record_change(change[1], change[2])
        bump(audience_counts, change[3], change[4])
      end
      local new_rfm = pack_rfm(a[3])
      if (h[3] or '') ~= new_rfm then
        for _, field in ipairs(rfm_fields(h[3])) do bump(rfm, field, -1) end
        for field in string.gmatch(a[3], '[^,]+') do bump(rfm, field, 1) end
        put(set, del, 'R', new_rfm, h[3])
      end
      if a[4] >= 0 then
        redis.call('ZADD', due, a[4], r[1])
      else
        redis.call('ZREM', due, r[1])
      end
    end
    if #set > 0 then redis.call('HSET', key, unpack(set)) end
    redis.call('HDEL', key, unpack(del))
  end
end

for hash, fields in pairs(deltas) do
  for field, by in pairs(fields) do
    if by ~= 0 and redis.call('HINCRBY', hash, field, by) <= 0 then
      redis.call('HDEL', hash, field)
    end
  end
end
-- Lua's unpack takes a few thousand values at a time.
for start = 1, #pending, 4000 do
  redis.call('HSET', outbox, unpack(pending, start, math.min(start + 3999, #pending)))
end
return recorded
