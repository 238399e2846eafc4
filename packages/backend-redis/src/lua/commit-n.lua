--[[
  Commits an optimistic transaction: every read must still have the version it saw, then every
  write and delete is applied. All checks run before the first change, so the script either
  changes nothing or applies everything (a Lua script runs atomically on the server).

  Keys: variable ("-n"): the caller passes numkeys = 1 + #reads + #writes.
    KEYS[1]                   index key   <prefix>:{<ns>}:idx
    KEYS[1 + i]               entry key of read i         (i = 1 .. #reads)
    KEYS[1 + #reads + j]      entry key of write j        (j = 1 .. #writes, one per key)

  ARGV:
    ARGV[1]                   #reads
    ARGV[2]                   #writes
    ARGV[2 + i]               version read i saw; 0 = absent or expired
    ARGV[2 + #reads + 4(j-1) + 1 .. 4]  write j: key (index member), kind ('w' | 'd'),
                              json ('' for a delete), ttlMs ('' = no expiry)

  Output:
    {1}                       committed
    {-1, i, actualVersion}    CONFLICT on read i (actualVersion 0 = absent); nothing written
    {-4, p}                   CORRUPT: KEYS[1 + p] holds a damaged entry; nothing written

  Entry format, clock and expiry as in write-3.lua (server TIME, PXAT expiresAt-1).
]]
local nReads = tonumber(ARGV[1])
local nWrites = tonumber(ARGV[2])

-- The live version of an entry key: 0 when absent, nil when damaged.
local function versionOf(key)
  local header = redis.call('GETRANGE', key, 0, 63)
  if header ~= '' then return tonumber(string.match(header, '^(%d+):%d+:%d*:')) end
  if redis.call('EXISTS', key) == 1 then return nil end
  return 0
end

for i = 1, nReads do
  local actual = versionOf(KEYS[1 + i])
  if not actual then return {-4, i} end
  if actual ~= tonumber(ARGV[2 + i]) then return {-1, i, actual} end
end

local versions = {}
for j = 1, nWrites do
  local base = 2 + nReads + 4 * (j - 1)
  if ARGV[base + 2] == 'w' then
    local current = versionOf(KEYS[1 + nReads + j])
    if not current then return {-4, nReads + j} end
    versions[j] = current
  end
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

for j = 1, nWrites do
  local key = KEYS[1 + nReads + j]
  local base = 2 + nReads + 4 * (j - 1)
  local member = ARGV[base + 1]
  if ARGV[base + 2] == 'd' then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], member)
  else
    local version = versions[j]
    local ttl = ARGV[base + 4]
    if ttl ~= '' then
      local expiresAt = now + tonumber(ttl)
      redis.call('SET', key, (version + 1) .. ':' .. now .. ':' .. expiresAt .. ':' .. ARGV[base + 3], 'PXAT', expiresAt - 1)
    else
      redis.call('SET', key, (version + 1) .. ':' .. now .. '::' .. ARGV[base + 3])
    end
    if version == 0 then redis.call('ZADD', KEYS[1], 0, member) end
  end
end
return {1}
