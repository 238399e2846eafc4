--[[
  Adds a number to a numeric entry in one round trip (core's nativeIncrement).
  An absent (or expired) key counts as 0 and starts at the version floor + 1 (write-4.lua); a
  key holding JSON null is refused (INVALID_VALUE on every backend), like any other non-number.
  The entry keeps its expiry (KEEPTTL and the same expiresAt), as `update` does; an entry with
  an expiry raises the floor to its new version, as a TTL write does.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:<key>   ('<ver>:<upd>:<exp>:<digest>:<json>', see write-4.lua)
    KEYS[2] index key      <prefix>:{<ns>}:idx
    KEYS[3] meta hash      <prefix>:{<ns>}:meta      (field 'floor': the version floor)

    ARGV[1] key            the user key (index member)
    ARGV[2] by             the amount, a finite number as JSON text

  Output:
    {1, json}              the new value, as the JSON text stored (shortest round-trip form)
    {-4}                   CORRUPT: the stored entry is damaged, left as is
    {-5, json}             NOT_A_NUMBER: the stored value (json, also 'null') is not a number; left as is
    {-6}                   NOT_FINITE: the sum overflows to Infinity; left as is
]]
--@include lib/entry.lua

local stored = redis.call('GET', KEYS[1])
local version = 0
local current = 0
local expiresAt = ''
if stored then
  local ver, exp, digest, value = string.match(stored, '^(%d+):%d+:(%d*):([0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]):(.*)$')
  if ver then
    -- Format 3: a value that lost its digest is damaged (whatever it now looks like).
    if entryDigest(value) ~= digest then return {-4} end
  else
    -- Format 2 (no digest): tonumber below is the check.
    ver, exp, value = string.match(stored, '^(%d+):%d+:(%d*):(.*)$')
  end
  version = tonumber(ver)
  if not version then return {-4} end
  expiresAt = exp
  -- JSON numbers never look like Lua's hex or inf forms; anything else is not a number.
  current = tonumber(value)
  if not current or not string.find(value, '^%-?%d') then return {-5, value} end
else
  version = tonumber(redis.call('HGET', KEYS[3], 'floor') or '0')
end

local sum = current + tonumber(ARGV[2])
if sum ~= sum or sum == math.huge or sum == -math.huge then return {-6} end

-- The shortest of %.15g .. %.17g that reads back as the same double, as JSON.stringify does.
local json = string.format('%.17g', sum)
for digits = 15, 16 do
  local candidate = string.format('%.' .. digits .. 'g', sum)
  if tonumber(candidate) == sum then
    json = candidate
    break
  end
end
if json == '-0' then json = '0' end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('SET', KEYS[1], (version + 1) .. ':' .. now .. ':' .. expiresAt .. ':' .. entryDigest(json) .. ':' .. json, 'KEEPTTL')
if not stored then redis.call('ZADD', KEYS[2], 0, ARGV[1]) end
if expiresAt ~= '' then
  local floor = tonumber(redis.call('HGET', KEYS[3], 'floor') or '0')
  if version + 1 > floor then redis.call('HSET', KEYS[3], 'floor', version + 1) end
end
return {1, json}
