--[[
  The retention sweeper: drops the records of every log appended with retention.maxAgeMs that
  are older than that age, so expired channel messages leave no trace within one sweep
  interval even when nobody appends any more. Every open backend calls it on a timer; the
  namespace's sweep clock (meta field 'swept') makes only the first call per interval work.

  Input:
    KEYS[1] meta hash      <prefix>:{<ns>}:meta      fields 'swept' (server ms of the last
                           sweep), 'sweepCursor' (HSCAN cursor over KEYS[3])
    KEYS[2] names          <prefix>:{<ns>}:gnames
    KEYS[3] retention      <prefix>:{<ns>}:gret      hash: log -> maxAgeMs

    ARGV[1] intervalMs     the sweep interval
    ARGV[2] stream prefix  '<prefix>:{<ns>}:g:' as the server sees it (stream = this .. log)
    ARGV[3] budget         at most this many old records read per call

  Output:
    {-1}                   another process swept less than intervalMs ago: nothing done
    {removed, logs}        records dropped, logs visited (a long list goes on next interval)

  The streams are read without being declared in KEYS (only known from KEYS[3]); they share
  its {<ns>} slot, as list-1.lua's entry keys do.
]]
--@include lib/trim.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local swept = tonumber(redis.call('HGET', KEYS[1], 'swept') or '0')
if now - swept < tonumber(ARGV[1]) then return {-1} end
redis.call('HSET', KEYS[1], 'swept', now)
local cursor = redis.call('HGET', KEYS[1], 'sweepCursor') or '0'
local reply = redis.call('HSCAN', KEYS[3], cursor, 'COUNT', 100)
local budget = tonumber(ARGV[3])
local removed = 0
local logs = 0
for i = 1, #reply[2], 2 do
  local log = reply[2][i]
  local stream = ARGV[2] .. log
  logs = logs + 1
  if budget > 0 then
    local dropped = trimOlder(stream, now - tonumber(reply[2][i + 1]), budget)
    removed = removed + dropped
    budget = budget - dropped
  end
  if redis.call('XLEN', stream) == 0 then
    redis.call('ZREM', KEYS[2], log)
    redis.call('HDEL', KEYS[3], log)
  end
end
if reply[1] == '0' then redis.call('HDEL', KEYS[1], 'sweepCursor') else redis.call('HSET', KEYS[1], 'sweepCursor', reply[1]) end
return {removed, logs}
