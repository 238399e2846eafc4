--[[
  Adds a job to a native queue and wakes its listeners.

  Input (the queue's keys, always in this order; see queues.ts):
    KEYS[1] ready          sorted set: waiting jobs, score -priority, member = id (the sequence
                           zero-padded to 15 digits, so equal scores order by sequence)
    KEYS[2] delayed        sorted set: delayed jobs, score = visibleAt (epoch ms, server TIME)
    KEYS[3] inflight       sorted set: claimed jobs, score = leaseUntil (unused here)
    KEYS[4] jobs           hash: id -> '<state>:<attempts>:<priority>:<enqueuedAt>:<visibleAt>:<leaseId>:<json>'
                           state w(aiting) d(elayed) f (in flight) x (dead)
    KEYS[5] dead           sorted set: dead letters, score = sequence (unused here)
    KEYS[6] all            sorted set: every job of the queue, score = sequence (for jobs() paging)
    KEYS[7] seq            string: the queue's sequence counter (never reset)
    KEYS[8] names          sorted set <prefix>:{<ns>}:qnames: queues that hold jobs

    ARGV[1] queue          the queue name (member of KEYS[8])
    ARGV[2] json           the payload, serialized by core
    ARGV[3] priority       a whole number
    ARGV[4] delayMs        0 = visible at once
    ARGV[5] channel        the wake channel of the queue (PUBLISH, for NativeNotify.listen)

  Output:
    {id, sequence}
]]
local sequence = redis.call('INCR', KEYS[7])
local id = string.format('%015d', sequence)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local priority = tonumber(ARGV[3])
local delay = tonumber(ARGV[4])
if delay > 0 then
  local visibleAt = now + delay
  redis.call('ZADD', KEYS[2], visibleAt, id)
  redis.call('HSET', KEYS[4], id, 'd:0:' .. priority .. ':' .. now .. ':' .. visibleAt .. '::' .. ARGV[2])
else
  redis.call('ZADD', KEYS[1], -priority, id)
  redis.call('HSET', KEYS[4], id, 'w:0:' .. priority .. ':' .. now .. ':::' .. ARGV[2])
end
redis.call('ZADD', KEYS[6], sequence, id)
redis.call('ZADD', KEYS[8], 0, ARGV[1])
redis.call('PUBLISH', ARGV[5], '')
return {id, sequence}
