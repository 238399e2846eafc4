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
    ARGV[6] digest         the first 16 hex digits of the SHA-1 of ARGV[2] (the client computes
                           it, so the server hashes only the old value)
    ARGV[7] now            the client's clock (epoch ms): updatedAt of a write without ttlMs

  Output:
    {version, updatedAt, expiresAt | false}   written
    {-1, actualVersion}                       CONFLICT (actualVersion 0 = absent)
    {-2}                                      LEASE_EXPIRED: the fence lease is gone
    {-3}                                      LEASE_TAKEN: another holder has the fence lease
    {-4}                                      CORRUPT: the stored entry is damaged, left as is

  Entry format (3): '<version>:<updatedAt>:<expiresAt or empty>:<digest>:<json>', so a read is
  one GET and a script learns the version and checks the old value with one GET and one SHA-1,
  never a JSON parse (lib/entry.lua).
  Clock: a write with ttlMs reads the server's TIME for expiresAt (and stamps updatedAt with it),
  so every client agrees on when an entry ends, which is what PXAT enforces. A write without
  ttlMs needs no clock of the server's: updatedAt is the writing client's (ARGV[7]), as on the
  file and SQLite backends, and the script saves the TIME call (leases need none either: the
  fence is the lease key's existence).
  Expiry: PXAT expiresAt-1, because Redis drops a key when now > when and the contract
  says an entry is expired when expiresAt <= now; a key that exists is therefore live.
  Versions never repeat: a new key (absent) starts at floor + 1, where 'floor' is at least every
  version a deleted or expired entry of the namespace had. Redis drops an expired key without
  telling anyone, so a write with a TTL raises the floor to its own version at write time.
]]
--@include lib/entry.lua

--@include lib/lease.lua

if ARGV[5] ~= '' then
  local refused = leaseRefused(KEYS[3], ARGV[5])
  if refused then return {refused} end
end

local version = entryVersion(KEYS[1])
if not version then return {-4} end

if versionConflict(ARGV[3], version) then return {-1, version} end

local floor = nil
if version == 0 then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  floor = tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
  version = floor
end
local nextVersion = version + 1

if ARGV[4] ~= '' then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local expiresAt = now + tonumber(ARGV[4])
  floor = floor or tonumber(redis.call('HGET', KEYS[4], 'floor') or '0')
  if nextVersion > floor then redis.call('HSET', KEYS[4], 'floor', nextVersion) end
  redis.call('SET', KEYS[1], nextVersion .. ':' .. now .. ':' .. expiresAt .. ':' .. ARGV[6] .. ':' .. ARGV[2], 'PXAT', expiresAt - 1)
  return {nextVersion, now, expiresAt}
end
-- SET without PXAT also drops an earlier expiry, as a write without ttlMs must.
redis.call('SET', KEYS[1], nextVersion .. ':' .. ARGV[7] .. '::' .. ARGV[6] .. ':' .. ARGV[2])
return {nextVersion, tonumber(ARGV[7]), false}
