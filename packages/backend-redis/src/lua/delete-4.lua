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
--@include lib/entry.lua

--@include lib/lease.lua

if ARGV[3] ~= '' then
  local refused = leaseRefused(KEYS[3], ARGV[3])
  if refused then return {refused} end
end

local version = entryVersion(KEYS[1])
if not version then return {-4} end

if versionConflict(ARGV[2], version) then return {-1, version} end

if version == 0 then
  -- An entry that expired (Redis dropped its key) can still have its index member: remove it
  -- too, so an expired key leaves nothing behind once deleted (bounded retention).
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {0}
end
local floor = tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
if version > floor then redis.call('HSET', KEYS[4], 'floor', version) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return {1}
