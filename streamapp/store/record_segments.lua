-- Record segments, audiences, RFM, live counts and the change events, in one atomic step.
-- KEYS[1..n]: profile hashes; then the cluster counts hash, the outbox hash, the audience counts
-- hash, the RFM histogram hash and the due sorted set (customer id -> next re-evaluation, ms).
-- ARGV[i]: JSON [customer id, expected segment ("" = none), new segment, since (epoch ms),
--   event_id, change JSON, audience part or null], the audience part being [expected audiences,
--   new audiences (comma separated), new RFM fields, next due ms (-1 = none),
--   [[event_id, change JSON, audience, +1 | -1], ...]].
-- A part whose expected value is no longer stored (another worker got there first during a
-- rebalance, or a timer and a batch raced) is left alone, and so is a profile that no longer exists
-- (the customer was forgotten, forget.lua, after its events were applied). A new segment equal to
-- the expected one is no change: only the pending mark ('a', set by apply_events) is cleared.
-- The segment's since is kept as ms before last_seen ('S', 0 = absent); RFM fields are kept
-- packed ('R'), with the functions of packing.lua, which are loaded ahead of this script.
-- Returns the change events recorded, flat: {event_id, JSON, event_id, JSON, ...}.
local n = #KEYS - 5
local counts, outbox, audience_counts, rfm, due =
  KEYS[n + 1], KEYS[n + 2], KEYS[n + 3], KEYS[n + 4], KEYS[n + 5]
local recorded = {}

local function bump(hash, field, by)
  if redis.call('HINCRBY', hash, field, by) <= 0 then redis.call('HDEL', hash, field) end
end

local function set_or_clear(key, field, value)
  if value == '' or value == 0 then
    redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, type(value) == 'number' and string.format('%.0f', value)
      or value)
  end
end

for i = 1, n do
  local key = KEYS[i]
  local r = cjson.decode(ARGV[i])
  redis.call('HDEL', key, 'a')
  if redis.call('EXISTS', key) == 1 then
    local h = redis.call('HMGET', key, 's', 'au', 'R', 'l')
    local current = h[1] or ''
    if current == r[2] and current ~= r[3] then
      redis.call('HSET', key, 's', r[3])
      set_or_clear(key, 'S', (tonumber(h[4]) or 0) - r[4])
      bump(counts, r[3], 1)
      if current ~= '' then bump(counts, current, -1) end
      redis.call('HSET', outbox, r[5], r[6])
      recorded[#recorded + 1] = r[5]
      recorded[#recorded + 1] = r[6]
    end
    local a = r[7]
    if type(a) == 'table' and (h[2] or '') == a[1] then
      set_or_clear(key, 'au', a[2])
      for _, change in ipairs(a[5]) do
        redis.call('HSET', outbox, change[1], change[2])
        bump(audience_counts, change[3], change[4])
        recorded[#recorded + 1] = change[1]
        recorded[#recorded + 1] = change[2]
      end
      local new_rfm = pack_rfm(a[3])
      if (h[3] or '') ~= new_rfm then
        for _, field in ipairs(rfm_fields(h[3])) do bump(rfm, field, -1) end
        for field in string.gmatch(a[3], '[^,]+') do bump(rfm, field, 1) end
        set_or_clear(key, 'R', new_rfm)
      end
      if a[4] >= 0 then
        redis.call('ZADD', due, a[4], r[1])
      else
        redis.call('ZREM', due, r[1])
      end
    end
  end
end
return recorded
