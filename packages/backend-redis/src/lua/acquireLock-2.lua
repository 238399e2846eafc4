--[[
  Takes a lock if nobody holds a live lease on it: SET NX PX semantics plus a fencing token.

  Input:
    KEYS[1] lease key      <prefix>:{<ns>}:l:<resource>   (string '<token> <owner>', expiring)
    KEYS[2] fencing key    <prefix>:{<ns>}:f:<resource>   (integer, never expires, never reset)

    ARGV[1] owner          unique id of this acquisition
    ARGV[2] ttlMs          lease length, a whole number of ms

  Output:
    false (nil)            a live lease exists: not taken
    {token, expiresAt}     taken; token = the resource's fencing counter after INCR

  The lease key exists exactly while the lease is live (PXAT expiresAt-1, see write-4.lua),
  so EXISTS is the liveness test and a holder that died frees the lock when its lease ends.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return false end

local token = redis.call('INCR', KEYS[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiresAt = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[1], 'PXAT', expiresAt - 1)
return {token, expiresAt}
