-- Apply one batch of events to the profiles, idempotently, in one atomic step.
-- KEYS[1..n]: profile hashes; KEYS[n+1]: the meta hash (watermark, customers, dropped_forgotten);
-- KEYS[n+2]: the suppression set (hashed ids of forgotten customers, see forget.lua).
-- ARGV[1]: dedupe window (number of fingerprints kept); ARGV[2]: newest event time of the batch;
-- ARGV[3]: JSON list of the trait names to return;
-- ARGV[3+i]: JSON [partition, [[offset, fingerprint, time_ms, is_order, cents, is_page, traits]...],
--            hashed id] for KEYS[i], events in offset order; traits is a flat [name, value, ...] list.
-- Returns per profile: {index of the cause event (0 = none), e, n, r, v, f, l, lo, segment or "",
-- 1 when the customer was forgotten and its events were dropped (counted in dropped_forgotten),
-- order windows 'w', audiences 'au', RFM fields 'rb', the values of the ARGV[3] traits}.
-- The cause is the last event applied now, or, when every event had been applied before, the one
-- whose offset is still marked pending ('a'): the worker died before assigning its segment.
-- An event is skipped when its offset is at or below the stored (partition, offset): a Kafka
-- redelivery. It is skipped when its fingerprint is in the window: a producer duplicate.
local FP = 8
local window = tonumber(ARGV[1]) * FP
local meta = KEYS[#KEYS - 1]
local suppressed = KEYS[#KEYS]
local function num(v) return tonumber(v) or 0 end
local function int(v) return string.format('%.0f', v) end
local DAY_MS = 86400000
local MAX_DAYS = 90
local trait_fields = {}
for k, name in ipairs(cjson.decode(ARGV[3])) do trait_fields[k] = 't:' .. name end

-- Daily order buckets "day:orders:cents,..." (oldest first), as streamapp.core.windows keeps them:
-- an order adds to its day's bucket; days 90 or more before the newest bucket are dropped.
local function add_order(text, day, cents)
  local buckets, found = {}, false
  for bd, bn, bc in string.gmatch(text, '(%-?%d+):(%d+):(%d+)') do
    bd, bn, bc = tonumber(bd), tonumber(bn), tonumber(bc)
    if bd == day then bn, bc, found = bn + 1, bc + cents, true end
    buckets[#buckets + 1] = {bd, bn, bc}
  end
  if not found then buckets[#buckets + 1] = {day, 1, cents} end
  table.sort(buckets, function(x, y) return x[1] < y[1] end)
  local newest = buckets[#buckets][1]
  local parts = {}
  for _, b in ipairs(buckets) do
    if b[1] > newest - MAX_DAYS then
      parts[#parts + 1] = string.format('%d:%d:%.0f', b[1], b[2], b[3])
    end
  end
  return table.concat(parts, ',')
end

local out = {}
local created = 0
local dropped = 0
for i = 1, #KEYS - 2 do
  local key = KEYS[i]
  local batch = cjson.decode(ARGV[3 + i])
  local part = batch[1]
  if redis.call('SISMEMBER', suppressed, batch[3]) == 1 then
    -- Forgotten: nothing of theirs is stored again, not even a watermark.
    dropped = dropped + #batch[2]
    out[i] = {0, 0, 0, 0, 0, 0, 0, 0, '', 1, '', '', '', {}}
  else
    local h = redis.call('HMGET', key, 'p', 'o', 'd', 'e', 'n', 'r', 'v', 'f', 'l', 'lo', 's', 'a',
      'w', 'au', 'rb')
    local w = h[13] or ''
    local p, o, d = tonumber(h[1]), tonumber(h[2]), h[3] or ''
    local e, n, r, v = num(h[4]), num(h[5]), num(h[6]), num(h[7])
    local f, l, lo = num(h[8]), num(h[9]), num(h[10])
    local last, moved = 0, false
    for j, ev in ipairs(batch[2]) do
      local off = ev[1]
      if not (p == part and o ~= nil and off <= o) then
        local fp = ev[2]
        local seen = false
        for k = 1, #d, FP do
          if string.sub(d, k, k + FP - 1) == fp then seen = true; break end
        end
        if not seen then
          local t = ev[3]
          e = e + 1; n = n + ev[4]; r = r + ev[5]; v = v + ev[6]
          if f == 0 or t < f then f = t end
          if t > l then l = t end
          if ev[4] == 1 then
            if t > lo then lo = t end
            w = add_order(w, math.floor(t / DAY_MS), ev[5])
          end
          d = string.sub(fp .. d, 1, window)
          local traits = ev[7]
          for k = 1, #traits, 2 do
            redis.call('HSET', key, 't:' .. traits[k], traits[k + 1])
          end
          last = j
        end
        p, o, moved = part, off, true
      end
    end
    if moved then
      if h[4] == false then created = created + 1 end
      redis.call('HSET', key, 'p', p, 'o', int(o), 'd', d, 'e', int(e), 'n', int(n), 'r', int(r),
        'v', int(v), 'f', int(f), 'l', int(l), 'lo', int(lo))
      if w ~= '' then redis.call('HSET', key, 'w', w) end
    end
    if last > 0 then
      redis.call('HSET', key, 'a', int(batch[2][last][1]))
    elseif h[12] then
      local pending = tonumber(h[12])
      for j, ev in ipairs(batch[2]) do
        if ev[1] == pending then last = j end
      end
    end
    local traits = {}
    if #trait_fields > 0 then traits = redis.call('HMGET', key, unpack(trait_fields)) end
    for k = 1, #traits do traits[k] = traits[k] or '' end
    out[i] = {last, e, n, r, v, f, l, lo, h[11] or '', 0, w, h[14] or '', h[15] or '', traits}
  end
end
if created > 0 then redis.call('HINCRBY', meta, 'customers', created) end
if dropped > 0 then redis.call('HINCRBY', meta, 'dropped_forgotten', dropped) end
local newest = tonumber(ARGV[2])
if newest > num(redis.call('HGET', meta, 'watermark')) then
  redis.call('HSET', meta, 'watermark', int(newest))
end
return out
