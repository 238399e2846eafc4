--[[
  Commits an optimistic transaction: every read must still have the version it saw, then every
  write and delete is applied. All checks run before the first change, so the script either
  changes nothing or applies everything (a Lua script runs atomically on the server).

  Keys: variable ("-n"): the caller passes numkeys = 2 + #reads + #writes.
    KEYS[1]                   index key   <prefix>:{<ns>}:idx
    KEYS[2]                   meta hash   <prefix>:{<ns>}:meta   (field 'floor')
    KEYS[2 + i]               entry key of read i         (i = 1 .. #reads)
    KEYS[2 + #reads + j]      entry key of write j        (j = 1 .. #writes, one per key)

  ARGV:
    ARGV[1]                   #reads
    ARGV[2]                   #writes
    ARGV[2 + i]               version read i saw; 0 = absent or expired
    ARGV[2 + #reads + 4(j-1) + 1 .. 4]  write j: key (index member), kind ('w' | 'd'),
                              json ('' for a delete), ttlMs ('' = no expiry)

  Output:
    {1}                       committed
    {-1, i, actualVersion}    CONFLICT on read i (actualVersion 0 = absent); nothing written
    {-4, p}                   CORRUPT: KEYS[2 + p] holds a damaged entry (a read, a write or a
                              delete of it); nothing written

  Entry format (with the digest of each value, computed here by entryDigest), clock, expiry and the version floor as in write-4.lua and delete-4.lua: a
  delete raises the floor to the deleted version, a new key starts above the floor, a write
  with a TTL raises the floor to its own version.
]]
local nReads = tonumber(ARGV[1])
local nWrites = tonumber(ARGV[2])

--@include lib/entry.lua


for i = 1, nReads do
  local actual = headerVersion(KEYS[2 + i])
  if not actual then return {-4, i} end
  if actual ~= tonumber(ARGV[2 + i]) then return {-1, i, actual} end
end

local versions = {}
for j = 1, nWrites do
  local current = entryVersion(KEYS[2 + nReads + j])
  if not current then return {-4, nReads + j} end
  versions[j] = current
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local floor = tonumber(redis.call('HGET', KEYS[2], 'floor') or '0')
local newFloor = floor

for j = 1, nWrites do
  local key = KEYS[2 + nReads + j]
  local base = 2 + nReads + 4 * (j - 1)
  local member = ARGV[base + 1]
  local version = versions[j]
  if ARGV[base + 2] == 'd' then
    if version > 0 then
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[1], member)
      if version > newFloor then newFloor = version end
    end
  else
    local nextVersion = (version == 0 and floor or version) + 1
    local ttl = ARGV[base + 4]
    if ttl ~= '' then
      local expiresAt = now + tonumber(ttl)
      redis.call('SET', key, nextVersion .. ':' .. now .. ':' .. expiresAt .. ':' .. entryDigest(ARGV[base + 3]) .. ':' .. ARGV[base + 3], 'PXAT', expiresAt - 1)
      if nextVersion > newFloor then newFloor = nextVersion end
    else
      redis.call('SET', key, nextVersion .. ':' .. now .. '::' .. entryDigest(ARGV[base + 3]) .. ':' .. ARGV[base + 3])
    end
    if version == 0 then redis.call('ZADD', KEYS[1], 0, member) end
  end
end
if newFloor > floor then redis.call('HSET', KEYS[2], 'floor', newFloor) end
return {1}
