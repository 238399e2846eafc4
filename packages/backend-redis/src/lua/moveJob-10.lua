--[[
  Format upgrade: moves one first-wave portable job (entry `@q/<queue>/j/<id>` or
  `@q/<queue>/dead/<id>`) into the native queue layout, in one atomic step: the native job is
  added (unless it is there already) and the entry deleted, so a crash between two jobs leaves
  each job in exactly one place, and a second upgrader finds the entry gone.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:@q/<queue>/j/<id>  (or …/dead/<id>)
    KEYS[2] index key      <prefix>:{<ns>}:idx
    KEYS[3 .. 10]          the queue's keys as in enqueue-8.lua (ready, delayed, inflight,
                           jobs, dead, all, seq, names)

    ARGV[1] member         the entry's user key (index member)
    ARGV[2] version        the entry version the client read; another version: not moved
    ARGV[3] queue          the queue name
    ARGV[4] id             the native id (15-digit sequence)
    ARGV[5] sequence
    ARGV[6] dead           '1' for a dead letter
    ARGV[7] attempts, ARGV[8] priority, ARGV[9] enqueuedAt, ARGV[10] visibleAt
    ARGV[11] leaseId       '' when not claimed (letters and digits only)
    ARGV[12] json          the payload

  Output:
    {1}                    moved
    {0}                    the entry changed or is gone; nothing done
]]
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
if tonumber(string.match(header, '^(%d+):') or '-1') ~= tonumber(ARGV[2]) then return {0} end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local id = ARGV[4]
local visibleAt = tonumber(ARGV[10])
local head = ':' .. ARGV[7] .. ':' .. ARGV[8] .. ':' .. ARGV[9] .. ':'
if redis.call('HEXISTS', KEYS[6], id) == 0 then
  if ARGV[6] == '1' then
    redis.call('HSET', KEYS[6], id, 'x' .. head .. '::' .. ARGV[12])
    redis.call('ZADD', KEYS[7], tonumber(ARGV[5]), id)
  elseif visibleAt > now and ARGV[11] ~= '' then
    redis.call('HSET', KEYS[6], id, 'f' .. head .. visibleAt .. ':' .. ARGV[11] .. ':' .. ARGV[12])
    redis.call('ZADD', KEYS[5], visibleAt, id)
  elseif visibleAt > now then
    redis.call('HSET', KEYS[6], id, 'd' .. head .. visibleAt .. '::' .. ARGV[12])
    redis.call('ZADD', KEYS[4], visibleAt, id)
  else
    redis.call('HSET', KEYS[6], id, 'w' .. head .. '::' .. ARGV[12])
    redis.call('ZADD', KEYS[3], -tonumber(ARGV[8]), id)
  end
  redis.call('ZADD', KEYS[8], tonumber(ARGV[5]), id)
  redis.call('ZADD', KEYS[10], 0, ARGV[3])
  local seq = tonumber(redis.call('GET', KEYS[9]) or '0')
  if tonumber(ARGV[5]) > seq then redis.call('SET', KEYS[9], ARGV[5]) end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1}
