--[[
  Writes one entry: optional compare-and-set (ifVersion), optional fence, optional TTL.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:<key>   (string '<ver>:<upd>:<exp>:<json>')
    KEYS[2] index key      <prefix>:{<ns>}:idx       (sorted set of the namespace's keys)
    KEYS[3] lease key      <prefix>:{<ns>}:l:<fence resource>; unused when ARGV[5] is ''
                           (callers then pass the entry key again)
    KEYS[4] meta hash      <prefix>:{<ns>}:meta      (field 'floor': the version floor)

    ARGV[1] key            the user key (index member)
    ARGV[2] json           the value, serialized by core
    ARGV[3] ifVersion      '' = unconditional, 'absent', or a version number
    ARGV[4] ttlMs          '' = no expiry, or a whole number of ms
    ARGV[5] fence          '' = unfenced, or '<token> <owner>' (the lease value it must match)

  Output:
    {version, updatedAt, expiresAt | false}   written
    {-1, actualVersion}                       CONFLICT (actualVersion 0 = absent)
    {-2}                                      LEASE_EXPIRED: the fence lease is gone
    {-3}                                      LEASE_TAKEN: another holder has the fence lease
    {-4}                                      CORRUPT: the stored entry is damaged, left as is

  Entry format: '<version>:<updatedAt>:<expiresAt or empty>:<json>', so a read is one GET and
  the script learns the version from GETRANGE 0 63 without copying the value.
  Clock: updatedAt/expiresAt come from the server's TIME, so every client agrees on them.
  Expiry: PXAT expiresAt-1, because Redis drops a key when now > when and the contract
  says an entry is expired when expiresAt <= now; a key that exists is therefore live.
  Versions never repeat: a new key (absent) starts at floor + 1, where 'floor' is at least every
  version a deleted or expired entry of the namespace had. Redis drops an expired key without
  telling anyone, so a write with a TTL raises the floor to its own version at write time.
]]
-- True when the value after a readable header is not JSON, as a read would find (so a change
-- never overwrites what a read reports as damaged). cjson is made strict about numbers for this
-- one call (no Infinity, NaN or hex; its shared setting is put back before the script ends);
-- nesting deeper than cjson's limit is not damage.
local function jsonDamaged(key)
  local body = string.match(redis.call('GET', key), '^%d+:%d+:%d*:(.*)$')
  if not body then return true end
  local lenient = cjson.decode_invalid_numbers()
  cjson.decode_invalid_numbers(false)
  local ok, err = pcall(cjson.decode, body)
  cjson.decode_invalid_numbers(lenient)
  return not ok and not string.find(tostring(err), 'nested', 1, true)
end

if ARGV[5] ~= '' then
  local lease = redis.call('GET', KEYS[3])
  if not lease then return {-2} end
  if lease ~= ARGV[5] then return {-3} end
end

local version = 0
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
if header ~= '' then
  version = tonumber(string.match(header, '^(%d+):%d+:%d*:'))
  if not version or jsonDamaged(KEYS[1]) then return {-4} end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return {-4}
end

local expected = ARGV[3]
if expected ~= '' then
  if expected == 'absent' then
    if version ~= 0 then return {-1, version} end
  elseif tonumber(expected) ~= version then
    return {-1, version}
  end
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local floor = nil
if version == 0 then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  floor = tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
  version = floor
end
local nextVersion = version + 1

if ARGV[4] ~= '' then
  local expiresAt = now + tonumber(ARGV[4])
  floor = floor or tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
  if nextVersion > floor then redis.call('HSET', KEYS[4], 'floor', nextVersion) end
  redis.call('SET', KEYS[1], nextVersion .. ':' .. now .. ':' .. expiresAt .. ':' .. ARGV[2], 'PXAT', expiresAt - 1)
  return {nextVersion, now, expiresAt}
end
-- SET without PXAT also drops an earlier expiry, as a write without ttlMs must.
redis.call('SET', KEYS[1], nextVersion .. ':' .. now .. '::' .. ARGV[2])
return {nextVersion, now, false}
