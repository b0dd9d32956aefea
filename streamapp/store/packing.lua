-- The packed profile fields, as streamapp.store.packing reads and writes them (see there why):
-- a run of signed integers, each a zigzag varint. Loaded ahead of the scripts that use it.
-- Lua 5.1 numbers are doubles, exact up to 2^53: far beyond any day, count or cents total here.

local function pack_ints(numbers)
  local bytes = {}
  for _, n in ipairs(numbers) do
    local z = n >= 0 and 2 * n or -2 * n - 1
    while z >= 128 do
      bytes[#bytes + 1] = string.char(z % 128 + 128)
      z = math.floor(z / 128)
    end
    bytes[#bytes + 1] = string.char(z)
  end
  return table.concat(bytes)
end

local function unpack_ints(packed)
  local numbers, z, scale = {}, 0, 1
  for i = 1, #packed do
    local byte = string.byte(packed, i)
    if byte >= 128 then
      z, scale = z + (byte - 128) * scale, scale * 128
    else
      z = z + byte * scale
      numbers[#numbers + 1] = z % 2 == 0 and z / 2 or -(z + 1) / 2
      z, scale = 0, 1
    end
  end
  return numbers
end

-- Daily order buckets {day, orders, cents}, oldest first; stored as (day delta, orders, cents).
local function unpack_windows(packed)
  local numbers, buckets, day = unpack_ints(packed), {}, 0
  for i = 1, #numbers - 2, 3 do
    day = day + numbers[i]
    buckets[#buckets + 1] = {day, numbers[i + 1], numbers[i + 2]}
  end
  return buckets
end

local function pack_windows(buckets)
  local numbers, previous = {}, 0
  for _, b in ipairs(buckets) do
    numbers[#numbers + 1] = b[1] - previous
    numbers[#numbers + 1] = b[2]
    numbers[#numbers + 1] = b[3]
    previous = b[1]
  end
  return pack_ints(numbers)
end

-- A buyer's RFM histogram fields ('r:<day>', 'f:<bin>', 'm:<bin>') from their packed numbers.
local function rfm_fields(packed)
  local numbers, names = unpack_ints(packed or ''), {}
  for k, dimension in ipairs({'r', 'f', 'm'}) do
    if numbers[k] then names[k] = dimension .. ':' .. string.format('%d', numbers[k]) end
  end
  return names
end

-- The packed form of 'r:<day>,f:<bin>,m:<bin>' ('' for a non-buyer).
local function pack_rfm(text)
  local numbers = {}
  for n in string.gmatch(text, ':(%-?%d+)') do numbers[#numbers + 1] = tonumber(n) end
  return pack_ints(numbers)
end
