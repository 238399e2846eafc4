--[[
  Deletes one entry: optional compare-and-set (ifVersion), optional fence.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:<key>
    KEYS[2] index key      <prefix>:{<ns>}:idx
    KEYS[3] lease key      <prefix>:{<ns>}:l:<fence resource>; unused when ARGV[3] is ''

    ARGV[1] key            the user key (index member)
    ARGV[2] ifVersion      '' = unconditional, 'absent', or a version number
    ARGV[3] fence          '' = unfenced, or '<token> <owner>'

  Output:
    {1}                    deleted
    {0}                    there was nothing to delete
    {-1, actualVersion}    CONFLICT (actualVersion 0 = absent)
    {-2}                   LEASE_EXPIRED
    {-3}                   LEASE_TAKEN
    {-4}                   CORRUPT: ifVersion given but the stored version is unreadable

  An unconditional delete also removes a damaged entry: it is an explicit request, and the
  only way to repair one short of redis-cli.
]]
if ARGV[3] ~= '' then
  local lease = redis.call('GET', KEYS[3])
  if not lease then return {-2} end
  if lease ~= ARGV[3] then return {-3} end
end

local expected = ARGV[2]
if expected ~= '' then
  local version = 0
  local header = redis.call('GETRANGE', KEYS[1], 0, 63)
  if header ~= '' then
    version = tonumber(string.match(header, '^(%d+):%d+:%d*:'))
    if not version then return {-4} end
  elseif redis.call('EXISTS', KEYS[1]) == 1 then
    return {-4}
  end
  if expected == 'absent' then
    if version ~= 0 then return {-1, version} end
  elseif tonumber(expected) ~= version then
    return {-1, version}
  end
end

redis.call('ZREM', KEYS[2], ARGV[1])
return {redis.call('DEL', KEYS[1])}
