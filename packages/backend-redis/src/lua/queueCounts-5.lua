--[[
  Counts the jobs of a native queue by state, at one instant of the server clock.

  Input (the first five queue keys, as in enqueue-8.lua):
    KEYS[1] ready   KEYS[2] delayed   KEYS[3] inflight   KEYS[4] jobs (unused)   KEYS[5] dead

  ARGV: none.

  Output:
    {waiting, inFlight, delayed, dead}: a due delayed job and an ended lease count as waiting
    (the next claim returns them to ready). Every count is O(log n).
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local dueDelayed = redis.call('ZCOUNT', KEYS[2], '-inf', now)
local endedLeases = redis.call('ZCOUNT', KEYS[3], '-inf', now)
return {
  redis.call('ZCARD', KEYS[1]) + dueDelayed + endedLeases,
  redis.call('ZCARD', KEYS[3]) - endedLeases,
  redis.call('ZCARD', KEYS[2]) - dueDelayed,
  redis.call('ZCARD', KEYS[5]),
}
