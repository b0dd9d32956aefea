-- Record new segments, live counts and the change events, in one atomic step.
-- KEYS[1..n]: profile hashes; KEYS[n+1]: counts hash; KEYS[n+2]: outbox hash.
-- ARGV per profile i, 5 each from ARGV[5*(i-1)+1]: expected current segment ("" = none),
-- new segment, since (epoch ms), event_id, change event JSON.
-- A new segment equal to the expected one is no change: only the pending mark ('a', set by
-- apply_events) is cleared. A profile whose segment is no longer the expected one (another worker
-- got there first during a rebalance) is left alone. Returns the 1-based indexes of the changes
-- recorded.
local counts = KEYS[#KEYS - 1]
local outbox = KEYS[#KEYS]
local recorded = {}
for i = 1, #KEYS - 2 do
  local a = 5 * (i - 1)
  local expected, new = ARGV[a + 1], ARGV[a + 2]
  local current = redis.call('HGET', KEYS[i], 's') or ''
  redis.call('HDEL', KEYS[i], 'a')
  if current == expected and current ~= new then
    redis.call('HSET', KEYS[i], 's', new, 'ss', ARGV[a + 3])
    redis.call('HINCRBY', counts, new, 1)
    if current ~= '' then
      if redis.call('HINCRBY', counts, current, -1) <= 0 then redis.call('HDEL', counts, current) end
    end
    redis.call('HSET', outbox, ARGV[a + 4], ARGV[a + 5])
    recorded[#recorded + 1] = i
  end
end
return recorded
