--[[
  Drops records of a native log: those with seq < before, all but the newest keepLast, or those
  older than olderThanMs (server clock).

  Input:
    KEYS[1] stream         <prefix>:{<ns>}:g:<log>
    KEYS[2] names          <prefix>:{<ns>}:gnames
    KEYS[3] retention      <prefix>:{<ns>}:gret      (the log's field goes when it empties)

    ARGV[1] log            the log name (member of KEYS[2])
    ARGV[2] kind           'before' | 'keepLast' | 'olderThanMs'
    ARGV[3] n              the seq, count or age

  Output:
    removed                how many records went

  The stream key itself stays (empty) so that its last-generated id, the log's lastSeq, is never
  lost; the log leaves KEYS[2] when it holds no record.
]]
--@include lib/trim.lua

local n = tonumber(ARGV[3])
local removed = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[2] == 'before' then
    removed = redis.call('XTRIM', KEYS[1], 'MINID', '0-' .. n)
  elseif ARGV[2] == 'keepLast' then
    removed = redis.call('XTRIM', KEYS[1], 'MAXLEN', '=', n)
  else
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    removed = trimOlder(KEYS[1], now - n, math.huge)
  end
end
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
return removed
