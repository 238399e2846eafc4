--[[
  Removes a damaged entry (the only way past CorruptDataError) and raises the version floor, as
  a delete does. The client inspects the key first (TYPE, GET) and names the damage; this script
  removes the key only if it still holds exactly what was inspected, so a healthy value written
  in between is never removed.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:<key>
    KEYS[2] index key      <prefix>:{<ns>}:idx
    KEYS[3] meta hash      <prefix>:{<ns>}:meta      (field 'floor': the version floor)

    ARGV[1] key            the user key (index member)
    ARGV[2] type           the Redis type the client saw ('string', 'hash', ...)
    ARGV[3] value          for a string: the exact stored value the client saw; else ''

  Output:
    {1, floor}             removed; the floor is now `floor`
    {0}                    the key changed since it was inspected; nothing removed

  The floor: the damaged entry's version when its header still starts with '<digits>:', else
  the floor jumps by 2^20 (its version is unknown; see README "Versions never repeat").
]]
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= ARGV[2] then return {0} end
local version = nil
if kind == 'string' then
  local stored = redis.call('GET', KEYS[1])
  if stored ~= ARGV[3] then return {0} end
  version = tonumber(string.match(stored, '^(%d+):'))
end
local floor = tonumber(redis.call('HGET', KEYS[3], 'floor') or '0')
local newFloor = floor
if version then
  if version > floor then newFloor = version end
else
  newFloor = floor + 1048576
end
if newFloor > floor then redis.call('HSET', KEYS[3], 'floor', newFloor) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1, newFloor}
