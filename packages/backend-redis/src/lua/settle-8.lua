--[[
  Settles a claim of a native queue: ack, nack (back to waiting, or delayed) or extend, only
  while leaseId is the job's current claim.

  Input (the queue's keys, as in enqueue-8.lua):
    KEYS[1] ready  KEYS[2] delayed  KEYS[3] inflight  KEYS[4] jobs  KEYS[5] dead  KEYS[6] all
    KEYS[7] seq (unused)  KEYS[8] names

    ARGV[1] id             the job
    ARGV[2] leaseId        the claim
    ARGV[3] kind           'ack' | 'nack' | 'extend'
    ARGV[4] ms             nack: delayMs (0 = waiting at once); extend: leaseMs
    ARGV[5] queue          the queue name (member of KEYS[8])
    ARGV[6] channel        the queue's wake channel (a nack wakes listeners)

  Output:
    {1}                    settled
    {0}                    leaseId is not the job's current claim (re-claimed, settled, dead,
                           or gone); nothing changed

  An ack removes every trace of the job (its hash field and its members of `inflight` and
  `all`), and the queue's name from KEYS[8] when it was the last job: nothing is left behind.
  A lease that ended but was not yet returned by a claim is still the current claim (as on the
  portable path); the next claim returns it to ready and clears its lease.
]]
local record = redis.call('HGET', KEYS[4], ARGV[1])
if not record then return {0} end
local state, attempts, priority, enqueuedAt, _, leaseId, json = string.match(record, '^(%a):(%d+):(%-?%d+):(%d+):(%d*):([%w]*):(.*)$')
if state ~= 'f' or leaseId ~= ARGV[2] then return {0} end

local kind = ARGV[3]
if kind == 'ack' then
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[6], ARGV[1])
  if redis.call('HLEN', KEYS[4]) == 0 then redis.call('ZREM', KEYS[8], ARGV[5]) end
  return {1}
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ms = tonumber(ARGV[4])
local head = attempts .. ':' .. priority .. ':' .. enqueuedAt .. ':'
if kind == 'extend' then
  local leaseUntil = now + ms
  redis.call('HSET', KEYS[4], ARGV[1], 'f:' .. head .. leaseUntil .. ':' .. leaseId .. ':' .. json)
  redis.call('ZADD', KEYS[3], leaseUntil, ARGV[1])
  return {1}
end

redis.call('ZREM', KEYS[3], ARGV[1])
if ms > 0 then
  redis.call('HSET', KEYS[4], ARGV[1], 'd:' .. head .. (now + ms) .. '::' .. json)
  redis.call('ZADD', KEYS[2], now + ms, ARGV[1])
else
  redis.call('HSET', KEYS[4], ARGV[1], 'w:' .. head .. '::' .. json)
  redis.call('ZADD', KEYS[1], -tonumber(priority), ARGV[1])
end
redis.call('PUBLISH', ARGV[6], '')
return {1}
