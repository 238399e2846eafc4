--[[
  Claims the best visible job of a native queue in one atomic step.

  Input (the first five queue keys, as in enqueue-8.lua):
    KEYS[1] ready   KEYS[2] delayed   KEYS[3] inflight   KEYS[4] jobs   KEYS[5] dead

    ARGV[1] leaseMs        lease length, whole ms
    ARGV[2] maxAttempts    '' = unlimited; a job with that many claims goes to the dead letters
    ARGV[3] leaseId        id of this claim (random, chosen by the client)
    ARGV[4] batch          at most this many due delayed jobs and as many expired leases are
                           returned to ready per call

  Output:
    false (nil)            no visible job
    {id, json, priority, attempts, leaseUntil, enqueuedAt}   claimed
    {''}                   a long run of jobs went to the dead letters: call again

  Cost: the due part of `delayed` and `inflight` is a range by score from -inf to now, at most
  `batch` members (empty, one O(log n) lookup, when nothing is due); the pick is one ZPOPMIN of
  `ready`. Neither grows with the waiting backlog nor with the number in flight.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local batch = tonumber(ARGV[4])
local PATTERN = '^(%a):(%d+):(%-?%d+):(%d+):(%d*):([%w]*):(.*)$'

-- Due delayed jobs and expired leases go back to ready (state w, no lease).
for _, from in ipairs({KEYS[2], KEYS[3]}) do
  local due = redis.call('ZRANGE', from, '-inf', now, 'BYSCORE', 'LIMIT', 0, batch)
  for _, id in ipairs(due) do
    local record = redis.call('HGET', KEYS[4], id)
    redis.call('ZREM', from, id)
    if record then
      local _, attempts, priority, enqueuedAt, _, _, json = string.match(record, PATTERN)
      redis.call('HSET', KEYS[4], id, 'w:' .. attempts .. ':' .. priority .. ':' .. enqueuedAt .. ':::' .. json)
      redis.call('ZADD', KEYS[1], -tonumber(priority), id)
    end
  end
end

local maxAttempts = tonumber(ARGV[2])
for _ = 1, 1000 do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then return false end
  local id = popped[1]
  local record = redis.call('HGET', KEYS[4], id)
  if record then
    local _, attempts, priority, enqueuedAt, _, _, json = string.match(record, PATTERN)
    attempts = tonumber(attempts)
    if maxAttempts and attempts >= maxAttempts then
      redis.call('HSET', KEYS[4], id, 'x:' .. attempts .. ':' .. priority .. ':' .. enqueuedAt .. ':::' .. json)
      redis.call('ZADD', KEYS[5], tonumber(id), id)
    else
      attempts = attempts + 1
      local leaseUntil = now + tonumber(ARGV[1])
      redis.call('HSET', KEYS[4], id, 'f:' .. attempts .. ':' .. priority .. ':' .. enqueuedAt .. ':' .. leaseUntil .. ':' .. ARGV[3] .. ':' .. json)
      redis.call('ZADD', KEYS[3], leaseUntil, id)
      return {id, json, tonumber(priority), attempts, leaseUntil, tonumber(enqueuedAt)}
    end
  end
end
return {''}
