-- Forget one customer, in one atomic step (GDPR erasure).
-- KEYS[1]: the profile hash; KEYS[2]: counts hash; KEYS[3]: outbox hash; KEYS[4]: meta hash;
-- KEYS[5]: suppression set; KEYS[6]: the dashboard's list of recent change events;
-- KEYS[7]: audience counts hash; KEYS[8]: RFM histogram hash; KEYS[9]: due sorted set.
-- ARGV[1]: the customer id as stored; ARGV[2]: its hash (kept on the suppression list);
-- ARGV[3]: the segment the caller read ("" = none); ARGV[4]: event_id and ARGV[5]: JSON of the
-- `exited` change event built for that segment; ARGV[6]: the audiences the caller read (comma
-- separated); then (event_id, JSON) of the `exited` event of each of those audiences.
-- Returns {-1} when the segment is no longer ARGV[3] (a worker moved the customer meanwhile: the
-- caller reads again and retries), else {existed (0/1), pending change events removed}.
-- Functions of packing.lua (the packed RFM fields 'R') are loaded ahead of this script.
local profile, counts, outbox, meta, suppressed, recent = KEYS[1], KEYS[2], KEYS[3], KEYS[4],
  KEYS[5], KEYS[6]
local audience_counts, rfm, due = KEYS[7], KEYS[8], KEYS[9]
local id, hashed, expected = ARGV[1], ARGV[2], ARGV[3]
local h = redis.call('HMGET', profile, 's', 'au', 'R')
local current = h[1] or ''
if current ~= expected or (h[2] or '') ~= ARGV[6] then return {-1} end
local function bump_down(hash, field)
  if redis.call('HINCRBY', hash, field, -1) <= 0 then redis.call('HDEL', hash, field) end
end
for field in string.gmatch(h[2] or '', '[^,]+') do bump_down(audience_counts, field) end
for _, field in ipairs(rfm_fields(h[3])) do bump_down(rfm, field) end
redis.call('ZREM', due, id)
redis.call('SADD', suppressed, hashed)
local existed = redis.call('DEL', profile)
if existed == 1 and redis.call('HINCRBY', meta, 'customers', -1) < 0 then
  redis.call('HSET', meta, 'customers', 0)
end
if current ~= '' and redis.call('HINCRBY', counts, current, -1) <= 0 then
  redis.call('HDEL', counts, current)
end
-- Change events of this customer still waiting to be published carry the id, and the exit
-- supersedes them: they go. The outbox is small (drained every few seconds), so a scan is cheap.
local function mine(json)
  local ok, decoded = pcall(cjson.decode, json)
  return ok and type(decoded) == 'table' and decoded['customer_id'] == id
end
local removed = 0
local entries = redis.call('HGETALL', outbox)
for k = 1, #entries, 2 do
  if mine(entries[k + 1]) then
    redis.call('HDEL', outbox, entries[k])
    removed = removed + 1
  end
end
for _, json in ipairs(redis.call('LRANGE', recent, 0, -1)) do
  if mine(json) then redis.call('LREM', recent, 0, json) end
end
if current ~= '' then redis.call('HSET', outbox, ARGV[4], ARGV[5]) end
for k = 7, #ARGV, 2 do redis.call('HSET', outbox, ARGV[k], ARGV[k + 1]) end
return {existed, removed}
