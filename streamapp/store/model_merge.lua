-- Merge mini-batch deltas into the shared model, atomically (streamapp.store.model_state).
--
-- This is MiniBatchKMeans.apply_delta (streamapp/core/model.py) operation for operation, so a
-- model learning alone and one learning through Redis take the same steps. Numbers are kept as
-- comma-separated "%.17g" strings, which round-trip doubles exactly (cjson.encode keeps only 14
-- digits, so it is used for strings and for decoding only).
--
-- KEYS[1] hash: meta (JSON: params, feature names), version, seen, fast_until, drifts,
--         last_drift_version, last_drift_seen, initialised, next_number, ids (JSON),
--         k, d, w (k weights), c (k*d centres, row-major), sw, sm, sq (scaler weight, mean, m2)
-- KEYS[2] list: warm-start reservoir rows, until the model is initialised
-- KEYS[3] list: ids of the last merged deltas, so a retried merge is applied once
-- KEYS[4] list: the most recent points, newest first (reseeding, silhouette)
-- ARGV[1] meta JSON (written once); ARGV[2] the version the caller's copy had before its
--         deltas; ARGV[3..] one delta JSON each (ModelDelta.to_json)
-- Returns {version, fields, reservoir rows, recent rows} when another worker merged since the
-- caller's version (fields: the hash, HGETALL order), else {version}.

local function fmt(x) return string.format('%.17g', x) end
local function join(t)
  local out = {}
  for i = 1, #t do out[i] = fmt(t[i]) end
  return table.concat(out, ',')
end
local function split(s)
  local t = {}
  if s == false or s == nil or s == '' then return t end
  for v in string.gmatch(s, '[^,]+') do t[#t + 1] = tonumber(v) end
  return t
end

local stats, reservoir_key, applied_key, recent_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local meta = cjson.decode(ARGV[1])
local reservoir_size = tonumber(meta.params.reservoir_size)
local recent_size = tonumber(meta.params.recent_size)
local expected = tonumber(ARGV[2])

local h = {}
local raw = redis.call('HGETALL', stats)
for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end

local first = cjson.decode(ARGV[3])
local k = tonumber(h.k) or #first.ids
local d = tonumber(h.d) or #first.mean
local version = tonumber(h.version) or 0
local version_before = version
local seen = tonumber(h.seen) or 0
local fast_until = tonumber(h.fast_until) or 0
local drifts = tonumber(h.drifts) or 0
local last_drift_version = h.last_drift_version or ''
local last_drift_seen = h.last_drift_seen or ''
local initialised = h.initialised == '1'
local next_number = tonumber(h.next_number) or (k + 1)
local ids = h.ids and cjson.decode(h.ids) or first.ids
local w, c = split(h.w), split(h.c)
if #w == 0 then for j = 1, k do w[j] = 0 end end
if #c == 0 then for j = 1, k * d do c[j] = 0 end end
local sw = tonumber(h.sw) or 0
local sm, sq = split(h.sm), split(h.sq)
if #sm == 0 then for f = 1, d do sm[f] = 0; sq[f] = 0 end end

local function decay(n, halflife)
  if halflife == 0 then return 1 end
  return 0.5 ^ (n / halflife)
end

for a = 3, #ARGV do
  local delta = cjson.decode(ARGV[a])
  if not redis.call('LPOS', applied_key, delta.id) then
    local halflife = delta.halflife
    if seen < fast_until then halflife = delta.fast_halflife end
    local n = delta.points
    if n > 0 then
      local dec = decay(n, halflife)
      local old = sw * dec
      local total = old + n
      for f = 1, d do
        local dl = delta.mean[f] - sm[f]
        sm[f] = sm[f] + dl * (n / total)
        sq[f] = sq[f] * dec + delta.m2[f] + dl * dl * (old * n / total)
      end
      sw = total
    end
    if not initialised then
      local room = reservoir_size - redis.call('LLEN', reservoir_key)
      for r = 1, math.min(room, #delta.reservoir) do
        redis.call('RPUSH', reservoir_key, join(delta.reservoir[r]))
      end
      if delta.init ~= cjson.null then
        for j = 1, k do
          w[j] = delta.init.weights[j]
          for f = 1, d do c[(j - 1) * d + f] = delta.init.centres[j][f] end
        end
        initialised = true
        redis.call('DEL', reservoir_key)
      end
    end
    if initialised and delta.learned > 0 then
      local dec = decay(delta.learned, halflife)
      for j = 1, k do
        local count = 0
        if ids[j] == delta.ids[j] then count = delta.counts[j] end
        w[j] = w[j] * dec + count
        if count > 0 then
          local rate = count / w[j]
          for f = 1, d do
            local i = (j - 1) * d + f
            c[i] = c[i] + rate * (delta.sums[j][f] / count - c[i])
          end
        end
      end
    end
    if initialised then
      for _, reseed in ipairs(delta.reseeds) do
        local j = reseed.slot + 1
        if ids[j] == reseed.old then
          for f = 1, d do c[(j - 1) * d + f] = reseed.centre[f] end
          w[j] = reseed.weight
          ids[j] = 'seg-' .. next_number
          next_number = next_number + 1
        end
      end
    end
    for r = 1, #delta.recent do redis.call('LPUSH', recent_key, join(delta.recent[r])) end
    redis.call('LTRIM', recent_key, 0, recent_size - 1)
    if delta.drift then
      fast_until = seen + n + math.floor(delta.fast_points)
      drifts = drifts + 1
      last_drift_version = tostring(version + 1)
      last_drift_seen = tostring(seen + n)
    end
    seen = seen + n
    version = version + 1
    redis.call('LPUSH', applied_key, delta.id)
    redis.call('LTRIM', applied_key, 0, 99)
  end
end

redis.call('HSETNX', stats, 'meta', ARGV[1])
redis.call('HSET', stats, 'version', version, 'seen', seen, 'fast_until', fast_until,
  'drifts', drifts, 'last_drift_version', last_drift_version,
  'last_drift_seen', last_drift_seen, 'initialised', initialised and '1' or '0',
  'next_number', next_number, 'ids', cjson.encode(ids), 'k', k, 'd', d, 'w', join(w),
  'c', join(c), 'sw', fmt(sw), 'sm', join(sm), 'sq', join(sq))

if version_before == expected then return {tostring(version)} end
local fields = redis.call('HGETALL', stats)
local rows = redis.call('LRANGE', reservoir_key, 0, -1)
local recent = redis.call('LRANGE', recent_key, 0, -1)
return {tostring(version), fields, rows, recent}
