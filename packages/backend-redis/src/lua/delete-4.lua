--[[
  Deletes one entry: optional compare-and-set (ifVersion), optional fence; raises the floor.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:<key>
    KEYS[2] index key      <prefix>:{<ns>}:idx
    KEYS[3] lease key      <prefix>:{<ns>}:l:<fence resource>; unused when ARGV[3] is ''
    KEYS[4] meta hash      <prefix>:{<ns>}:meta      (field 'floor': the version floor)

    ARGV[1] key            the user key (index member)
    ARGV[2] ifVersion      '' = unconditional, 'absent', or a version number
    ARGV[3] fence          '' = unfenced, or '<token> <owner>'

  Output:
    {1}                    deleted
    {0}                    there was nothing to delete
    {-1, actualVersion}    CONFLICT (actualVersion 0 = absent)
    {-2}                   LEASE_EXPIRED
    {-3}                   LEASE_TAKEN
    {-4}                   CORRUPT: the stored entry is damaged, left as is (repair-4.lua is
                           the only way past it)

  Versions never repeat: the namespace's floor is raised to the deleted entry's version, so the
  key, created again, starts above it (write-4.lua).
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

if ARGV[3] ~= '' then
  local lease = redis.call('GET', KEYS[3])
  if not lease then return {-2} end
  if lease ~= ARGV[3] then return {-3} end
end

local version = 0
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
if header ~= '' then
  version = tonumber(string.match(header, '^(%d+):%d+:%d*:'))
  if not version or jsonDamaged(KEYS[1]) then return {-4} end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return {-4}
end

local expected = ARGV[2]
if expected ~= '' then
  if expected == 'absent' then
    if version ~= 0 then return {-1, version} end
  elseif tonumber(expected) ~= version then
    return {-1, version}
  end
end

if version == 0 then return {0} end
local floor = tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
if version > floor then redis.call('HSET', KEYS[4], 'floor', version) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return {1}
