--[[
  The one lease comparison of every script that needs a live lease: fenced writes and deletes
  (write-4.lua, delete-4.lua), extendLock-2.lua and releaseLock-2.lua. Spliced in by scripts.ts
  where a script says `--@include lib/lease.lua`.

  leaseRefused(leaseKey, expected) -> nil while `expected` ('<token> <owner>') is the live lease
  of `leaseKey`; -2 (LEASE_EXPIRED) when there is no live lease; -3 (LEASE_TAKEN) when another
  holder has it. The lease key exists exactly while the lease is live (PXAT), so one GET decides.
]]
local function leaseRefused(leaseKey, expected)
  local lease = redis.call('GET', leaseKey)
  if not lease then return -2 end
  if lease ~= expected then return -3 end
  return nil
end
