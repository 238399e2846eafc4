--[[
  Takes a lock if nobody holds a live lease on it: SET NX PX semantics plus a fencing token, and
  the lease it took over when the previous holder's ran out without a release.

  Input:
    KEYS[1] lease key      <prefix>:{<ns>}:l:<resource>   (string '<token> <owner>', expiring)
    KEYS[2] fencing key    <prefix>:{<ns>}:f:<resource>   (integer, never expires, never reset)
    KEYS[3] holder key     <prefix>:{<ns>}:h:<resource>   (string '<token> <owner> <expiresAt>':
                           the last lease taken, until its holder releases it)

    ARGV[1] owner          unique id of this acquisition
    ARGV[2] ttlMs          lease length, a whole number of ms

  Output:
    false (nil)            a live lease exists: not taken
    {token, expiresAt, last}
                           taken; token = the resource's fencing counter after INCR; last = the
                           holder key's previous value (nil when the last lease was released, or
                           none was ever taken here): with the lease key gone, that lease lapsed

  The lease key exists exactly while the lease is live (PXAT expiresAt-1, see write-4.lua),
  so EXISTS is the liveness test and a holder that died frees the lock when its lease ends.
  Redis drops an expired lease key without a trace, so the holder key (which never expires,
  and which release deletes) is what remembers a lease that ran out: SET … GET records the new
  lease and returns the old record in one call. A refused attempt still costs one EXISTS.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return false end

local token = redis.call('INCR', KEYS[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiresAt = now + tonumber(ARGV[2])
local lease = token .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], lease, 'PXAT', expiresAt - 1)
return {token, expiresAt, redis.call('SET', KEYS[3], lease .. ' ' .. expiresAt, 'GET')}
