--[[
  Pushes the end of a lease to now + ttlMs, only for the holder that owns it.

  Input:
    KEYS[1] lease key      <prefix>:{<ns>}:l:<resource>
    KEYS[2] holder key     <prefix>:{<ns>}:h:<resource>   (see acquireLock-3.lua)

    ARGV[1] lease          '<token> <owner>' as the holder got it
    ARGV[2] ttlMs          new lease length from now, a whole number of ms

  Output:
    {expiresAt}            extended
    {-2}                   LEASE_EXPIRED: no live lease (it ended, e.g. during an outage)
    {-3}                   LEASE_TAKEN: another holder has it; left untouched

  Owner and token are compared before anything changes. The holder record gets the new end
  too, so a takeover after this lease lapses names when it really ran out.
]]
--@include lib/lease.lua

local refused = leaseRefused(KEYS[1], ARGV[1])
if refused then return {refused} end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiresAt = now + tonumber(ARGV[2])
redis.call('PEXPIREAT', KEYS[1], expiresAt - 1)
redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. expiresAt)
return {expiresAt}
