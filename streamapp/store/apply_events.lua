-- Apply one batch of events to the profiles, idempotently, in one atomic step.
-- KEYS[1..n]: profile hashes of the ids the events carry; then the meta hash (watermark,
-- customers, dropped_forgotten), the suppression set (hashed ids of forgotten customers, see
-- forget.lua), the aliases hash (merged id -> id it was merged into), the cluster counts, the
-- audience counts, the RFM histogram, the due set and the outbox.
-- ARGV[1]: dedupe window (number of fingerprints kept); ARGV[2]: newest event time of the batch;
-- ARGV[3]: JSON {"traits": trait fields to return, "prefix": profile key prefix, "emitted_at":
--          ISO time}; the profiles of alias targets and merge sources are named from "prefix"
--          here, undeclared: they carry the KEYS' hash tag, so on a cluster they are in the same
--          slot, which Redis allows (streamapp/store/keys.py);
-- ARGV[4]: JSON, one row per KEYS[i]: [partition, [[offset, time_ms, is_order, cents, is_page,
--          traits, merge]...], hashed id, customer id], events in offset order; traits is a flat
--          [field, value, ...] list; merge is absent or [id merged from, messageId, ISO time];
-- ARGV[5]: the events' fingerprints, 6 raw bytes each, in the order of ARGV[4]'s events. One
--          JSON document and one byte string per batch: decoding and passing an argument per
--          customer cost more than the work on the profile.
-- Returns per profile: {index of the cause event (0 = none), e, n, r, v, f, l, lo, segment or "",
-- 1 when the customer was forgotten and its events were dropped (counted in dropped_forgotten),
-- packed order windows 'W', audiences 'au', packed RFM fields 'R', the values of the asked
-- traits, the id the events were applied to (another one when this id was merged into it)}.
-- The cause is the last event applied now, or, when every event had been applied before, the one
-- whose offset is still marked pending ('a'): the worker died before assigning its segment.
-- An event is skipped when its offset is at or below the profile's offset for its partition (the
-- field named by the partition number): a Kafka redelivery. It is skipped when its fingerprint is
-- in the window 'd': a producer duplicate. A merged profile keeps the offsets of every partition
-- its ids came from. Functions of packing.lua are loaded ahead of this script.
local FP = 6
local DAY_MS = 86400000
local MAX_DAYS = 90
local n_profiles = #KEYS - 8
local meta, suppressed, aliases, counts, audience_counts, rfm, due, outbox =
  unpack(KEYS, n_profiles + 1, n_profiles + 8)
local window = tonumber(ARGV[1]) * FP
local options = cjson.decode(ARGV[3])
local prefix = options['prefix']
local trait_fields = options['traits']
local function num(v) return tonumber(v) or 0 end
local fingerprints, cursor = ARGV[5], 1
-- Whether fingerprint `fp` is one of the window's: a plain search, checked to start on an entry.
local function in_window(d, fp)
  local at = string.find(d, fp, 1, true)
  while at do
    if (at - 1) % FP == 0 then return true end
    at = string.find(d, fp, at + 1, true)
  end
  return false
end
-- Whole numbers as digits: '%d' formats the double as a 64-bit integer, exact here and 2.5 times
-- cheaper than '%.0f'.
local function int(v) return string.format('%d', v) end
local function bump(hash, field, by)
  if redis.call('HINCRBY', hash, field, by) <= 0 then redis.call('HDEL', hash, field) end
end

-- Daily order buckets (packed, see packing.lua), as streamapp.core.windows keeps them: orders add
-- to their day's bucket; days 90 or more before the newest bucket are dropped.
local function add_orders(packed, day, orders, cents)
  local buckets, found = unpack_windows(packed), false
  for _, b in ipairs(buckets) do
    if b[1] == day then b[2], b[3], found = b[2] + orders, b[3] + cents, true end
  end
  if not found then buckets[#buckets + 1] = {day, orders, cents} end
  table.sort(buckets, function(x, y) return x[1] < y[1] end)
  local newest = buckets[#buckets][1]
  local kept = {}
  for _, b in ipairs(buckets) do
    if b[1] > newest - MAX_DAYS then kept[#kept + 1] = b end
  end
  return pack_windows(kept)
end

-- The change event telling consumers that `id` left `previous` because it merged into `into`.
-- Its event_id follows streamapp.core.changes.change_event_id for an exit.
local function merge_exit(id, kind, previous, into, cause, at)
  local event_id = string.sub(redis.sha1hex(
    table.concat({id, kind, '-' .. previous, cause}, '\31')), 1, 32)
  redis.call('HSET', outbox, event_id, cjson.encode({
    event_id = event_id, customer_id = id, kind = kind, change = 'exited',
    segment = cjson.null, segment_name = cjson.null, previous_segment = previous,
    previous_segment_name = cjson.null, model_version = 0, features = {}, event_time = at,
    emitted_at = options['emitted_at'], cause_message_id = cause, merged_into = into}))
end

-- A counter to write, or to remove when it is 0 and `stored`: absent reads as 0 everywhere.
local function put(set, del, field, value, stored)
  if value ~= 0 then
    set[#set + 1] = field
    set[#set + 1] = int(value)
  elseif stored then
    del[#del + 1] = field
  end
end

local out = {}
local created = 0
local dropped = 0
local rows = cjson.decode(ARGV[4])
for i = 1, n_profiles do
  local part, events, hashed, id = unpack(rows[i])
  local fp_at = cursor
  cursor = cursor + #events * FP
  local target = redis.call('HGET', aliases, id)
  local key = KEYS[i]
  if target then id, key = target, prefix .. target end
  if redis.call('SISMEMBER', suppressed, hashed) == 1 then
    -- Forgotten: nothing of theirs is stored again, not even an offset.
    dropped = dropped + #events
    out[i] = {0, 0, 0, 0, 0, 0, 0, 0, '', 1, '', '', '', {}, id}
  else
    local ofield = string.format('%d', part)
    local h = redis.call('HMGET', key, ofield, 'd', 'e', 'n', 'r', 'v', 'f', 'l', 'lo', 's', 'a',
      'W', 'au', 'R', 'S')
    local o, d = tonumber(h[1]), h[2] or ''
    local e, n, r, v = num(h[3]), num(h[4]), num(h[5]), num(h[6])
    local f, l, lo = num(h[7]), num(h[8]), num(h[9])
    local w = h[12] or ''
    -- 'S' counts back from last_seen, which moves: remember the instant itself meanwhile.
    local since = h[10] and l - num(h[15])
    local last, moved = 0, false
    -- Written with the counters, in one HSET (a later event's value after an earlier one's).
    local set = {}
    for j, ev in ipairs(events) do
      local off = ev[1]
      if not (o ~= nil and off <= o) then
        local at = fp_at + (j - 1) * FP
        local fp = string.sub(fingerprints, at, at + FP - 1)
        if not in_window(d, fp) then
          local t = ev[2]
          e = e + 1; n = n + ev[3]; r = r + ev[4]; v = v + ev[5]
          if f == 0 or t < f then f = t end
          if t > l then l = t end
          if ev[3] == 1 then
            if t > lo then lo = t end
            w = add_orders(w, math.floor(t / DAY_MS), 1, ev[4])
          end
          d = string.sub(fp .. d, 1, window)
          local traits = ev[6]
          for k = 1, #traits do set[#set + 1] = traits[k] end
          local merge = ev[7]
          local source = merge and prefix .. merge[1]
          if merge and merge[1] ~= id and not redis.call('HGET', aliases, merge[1]) then
            -- Identity merge, exactly once: the alias entry makes a second one a no-op, and
            -- sends the merged id's later events (from any partition) to this profile.
            redis.call('HSET', aliases, merge[1], id)
          else
            source = nil
          end
          if source and redis.call('EXISTS', source) == 1 then
            -- The source's traits fill only fields this profile lacks: write its own first.
            if #set > 0 then redis.call('HSET', key, unpack(set)); set = {} end
            local src = redis.call('HGETALL', source)
            local m = {}
            for k = 1, #src, 2 do m[src[k]] = src[k + 1] end
            e = e + num(m['e']); n = n + num(m['n']); r = r + num(m['r']); v = v + num(m['v'])
            if num(m['f']) > 0 and (f == 0 or num(m['f']) < f) then f = num(m['f']) end
            if num(m['l']) > l then l = num(m['l']) end
            if num(m['lo']) > lo then lo = num(m['lo']) end
            d = string.sub(d .. (m['d'] or ''), 1, window)
            for _, b in ipairs(unpack_windows(m['W'] or '')) do
              w = add_orders(w, b[1], b[2], b[3])
            end
            for field, value in pairs(m) do
              if string.match(field, '^%d+$') then
                if field == ofield then
                  if o == nil or tonumber(value) > o then o = tonumber(value) end
                elseif num(redis.call('HGET', key, field)) < tonumber(value) then
                  redis.call('HSET', key, field, value)
                end
              elseif string.sub(field, 1, 1) == 't' then
                redis.call('HSETNX', key, field, value)
              end
            end
            if m['s'] then
              bump(counts, m['s'], -1)
              merge_exit(merge[1], 'cluster', m['s'], id, merge[2], merge[3])
            end
            for audience in string.gmatch(m['au'] or '', '[^,]+') do
              bump(audience_counts, audience, -1)
              merge_exit(merge[1], 'audience', audience, id, merge[2], merge[3])
            end
            for _, field in ipairs(rfm_fields(m['R'])) do bump(rfm, field, -1) end
            redis.call('ZREM', due, merge[1])
            redis.call('DEL', source)
            created = created - 1
          end
          last = j
        end
        if o == nil or off > o then o = off end
        moved = true
      end
    end
    if moved then
      if h[3] == false then created = created + 1 end
      -- Most customers never order: their zero counters take no room.
      local del = {}
      set[#set + 1] = ofield; set[#set + 1] = int(o); set[#set + 1] = 'd'; set[#set + 1] = d
      put(set, del, 'e', e, h[3]); put(set, del, 'n', n, h[4]); put(set, del, 'r', r, h[5])
      put(set, del, 'v', v, h[6]); put(set, del, 'f', f, h[7]); put(set, del, 'l', l, h[8])
      put(set, del, 'lo', lo, h[9])
      if since then put(set, del, 'S', l - since, h[15]) end
      if w ~= '' then set[#set + 1] = 'W'; set[#set + 1] = w end
      if last > 0 then set[#set + 1] = 'a'; set[#set + 1] = int(events[last][1]) end
      redis.call('HSET', key, unpack(set))
      if #del > 0 then redis.call('HDEL', key, unpack(del)) end
    end
    if last == 0 and h[11] then
      local pending = tonumber(h[11])
      for j, ev in ipairs(events) do
        if ev[1] == pending then last = j end
      end
    end
    local traits = {}
    if #trait_fields > 0 then traits = redis.call('HMGET', key, unpack(trait_fields)) end
    for k = 1, #traits do traits[k] = traits[k] or '' end
    out[i] = {last, e, n, r, v, f, l, lo, h[10] or '', 0, w, h[13] or '', h[14] or '', traits, id}
  end
end
if created ~= 0 then redis.call('HINCRBY', meta, 'customers', created) end
if dropped > 0 then redis.call('HINCRBY', meta, 'dropped_forgotten', dropped) end
local newest = tonumber(ARGV[2])
if newest > num(redis.call('HGET', meta, 'watermark')) then
  redis.call('HSET', meta, 'watermark', int(newest))
end
return out
