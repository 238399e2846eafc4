--[[
  Frees a lease, only for the holder that owns it; never frees a new holder's lock.

  Input:
    KEYS[1] lease key      <prefix>:{<ns>}:l:<resource>

    ARGV[1] lease          '<token> <owner>' as the holder got it

  Output:
    {1}                    released
    {-2}                   LEASE_EXPIRED: no live lease
    {-3}                   LEASE_TAKEN: another holder has it; left untouched

  The fencing counter (<prefix>:{<ns>}:f:<resource>) is not touched: tokens keep growing.
]]
--@include lib/lease.lua

local refused = leaseRefused(KEYS[1], ARGV[1])
if refused then return {refused} end
redis.call('DEL', KEYS[1])
return {1}
