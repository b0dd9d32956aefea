-- Merge mini-batch deltas into the shared model, atomically (streamapp.store.model_state).
--
-- This is MiniBatchKMeans.apply_delta (streamapp/core/model.py) operation for operation, so a
-- model learning alone and one learning through Redis take the same steps. Numbers are kept as
-- comma-separated "%.17g" strings, which round-trip doubles exactly (cjson.encode keeps only 14
-- digits, so it is used for strings and for decoding only). The points of a delta arrive as raw
-- doubles, not in its JSON: parsing their decimal text cost about as much Redis time as
-- formatting them, and doubles need no parsing and cannot lose a digit on the way.
--
-- KEYS[1] hash: meta (JSON: params, feature names), version, seen, fast_until, drifts,
--         last_drift_version, last_drift_seen, initialised, next_number, ids (JSON),
--         k, d, w (k weights), c (k*d centres, row-major), sw, sm, sq (scaler weight, mean, m2)
-- KEYS[2] list: warm-start reservoir rows, until the model is initialised
-- KEYS[3] list: ids of the last merged deltas, so a retried merge is applied once
-- KEYS[4] list: the most recent points, newest first (reseeding, silhouette)
-- ARGV[1] meta JSON (written once); ARGV[2] the version the caller's copy had before its
--         deltas; then two per delta: its JSON (ModelDelta.to_json, with the number of
--         reservoir_rows and recent_rows) and those rows (ModelDelta.packed_rows: the reservoir
--         rows, then the recent rows, as little-endian float64, row-major, #mean numbers a row)
-- Returns {version, fields, reservoir rows, recent rows} when another worker merged since the
-- caller's version (fields: the hash, HGETALL order), else {version}.

-- Lua's unpack and a command's arguments both live on its C stack (8000 slots at most).
local MAX_ARGS = 4000

local function fmt(x) return string.format('%.17g', x) end
local templates, layouts = {}, {}
-- One string.format per row with a "%.17g,%.17g,..." template gives the same text as formatting
-- each number and concatenating, in a quarter of the time (string and table building dominated).
local function template(n)
  local t = templates[n]
  if not t then
    t = n > 0 and string.rep('%.17g,', n - 1) .. '%.17g' or ''
    templates[n] = t
  end
  return t
end
local function join(t)
  if #t <= MAX_ARGS then return string.format(template(#t), unpack(t)) end
  local parts = {}
  for i = 1, #t, MAX_ARGS do
    local last = math.min(i + MAX_ARGS - 1, #t)
    parts[#parts + 1] = string.format(template(last - i + 1), unpack(t, i, last))
  end
  return table.concat(parts, ',')
end
-- The text of the `width` doubles at byte `at` of `rows`. struct.unpack also returns the
-- position after them, one argument more than the template formats: string.format ignores it.
local function numbers_text(rows, at, width)
  local layout = layouts[width]
  if not layout then
    layout = '<' .. string.rep('d', width)
    layouts[width] = layout
  end
  return string.format(template(width), struct.unpack(layout, rows, at))
end
local function row_text(rows, at, width)
  if width <= MAX_ARGS then return numbers_text(rows, at, width) end
  local parts = {}
  for i = 0, width - 1, MAX_ARGS do
    parts[#parts + 1] = numbers_text(rows, at + 8 * i, math.min(MAX_ARGS, width - i))
  end
  return table.concat(parts, ',')
end
-- One command per chunk of values instead of one per value; several values are pushed left to
-- right, so the list ends up as after one push per value.
local function push(command, key, values)
  for i = 1, #values, MAX_ARGS do
    redis.call(command, key, unpack(values, i, math.min(i + MAX_ARGS - 1, #values)))
  end
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

-- The recent rows of every delta applied, oldest first; only the newest recent_size of them
-- outlive the trim, so only those are formatted and pushed, once, at the end.
local recent_parts, applied = {}, false

for a = 3, #ARGV, 2 do
  local delta = a == 3 and first or cjson.decode(ARGV[a])
  local rows, width = ARGV[a + 1], #delta.mean
  if not redis.call('LPOS', applied_key, delta.id) then
    applied = true
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
      if delta.init == cjson.null then
        local room = reservoir_size - redis.call('LLEN', reservoir_key)
        local texts = {}
        for r = 1, math.min(room, delta.reservoir_rows) do
          texts[r] = row_text(rows, 8 * width * (r - 1) + 1, width)
        end
        push('RPUSH', reservoir_key, texts)
      else
        -- The delta's reservoir rows are not pushed: the reservoir is deleted right here.
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
    recent_parts[#recent_parts + 1] = {rows = rows, at = 8 * width * delta.reservoir_rows + 1,
      count = delta.recent_rows, width = width}
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

if applied then
  local texts, skip = {}, -recent_size
  for _, part in ipairs(recent_parts) do skip = skip + part.count end
  for _, part in ipairs(recent_parts) do
    for r = math.max(skip, 0) + 1, part.count do
      texts[#texts + 1] = row_text(part.rows, part.at + 8 * part.width * (r - 1), part.width)
    end
    skip = skip - part.count
  end
  push('LPUSH', recent_key, texts)
  redis.call('LTRIM', recent_key, 0, recent_size - 1)
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
