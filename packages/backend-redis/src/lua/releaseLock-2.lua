--[[
  Frees a lease, only for the holder that owns it; never frees a new holder's lock. Wakes the
  lock's waiters in every process.

  Input:
    KEYS[1] lease key      <prefix>:{<ns>}:l:<resource>
    KEYS[2] holder key     <prefix>:{<ns>}:h:<resource>   (see acquireLock-3.lua)

    ARGV[1] lease          '<token> <owner>' as the holder got it
    ARGV[2] channel        the lock's wake channel (PUBLISH, for NativeNotify.listen)

  Output:
    {1}                    released
    {-2}                   LEASE_EXPIRED: no live lease (the holder record stays: a later
                           acquire reports the lapse as a takeover)
    {-3}                   LEASE_TAKEN: another holder has it; left untouched

  One DEL drops the lease and its holder record (a released lease is no takeover), then one
  PUBLISH wakes the waiters: a release is GET, DEL, PUBLISH. The fencing counter
  (<prefix>:{<ns>}:f:<resource>) is not touched: tokens keep growing.
]]
--@include lib/lease.lua

local refused = leaseRefused(KEYS[1], ARGV[1])
if refused then return {refused} end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[2], '')
return {1}
