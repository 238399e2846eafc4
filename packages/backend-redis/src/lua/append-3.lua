--[[
  Appends records to a native log (a Redis Stream) in one atomic step and wakes its listeners.

  Input:
    KEYS[1] stream         <prefix>:{<ns>}:g:<log>   entries '0-<seq>' with fields at, j (json)
    KEYS[2] names          <prefix>:{<ns>}:gnames    sorted set: logs that hold records
    KEYS[3] retention      <prefix>:{<ns>}:gret      hash: log -> maxAgeMs, for the sweeper
                           (sweepLogs-3.lua), so records age out even when appends stop

    ARGV[1] log            the log name (member of KEYS[2])
    ARGV[2] channel        the log's wake channel (PUBLISH, for NativeNotify.listen)
    ARGV[3] maxLen         '' = no count retention, else keep at most this many records
    ARGV[4] maxAgeMs       '' = no age retention, else drop records older than this
    ARGV[5 ..]             the records, as JSON

  Output:
    {at, seq1, seq2, ...}  the append time (server TIME) and each record's seq

  Seq: XADD with the id '0-*' lets the server pick 0-(last + 1), where last is the stream's
  last-generated id, which trims never lower: seqs strictly increase per log across every
  process, survive trims, and never leave a gap a reader could see (the script is atomic).
  Retention runs in this same call: MAXLEN is exact; the age trim reads at most 1000 old records
  per append (amortized; the next append goes on).
]]
--@include lib/trim.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {now}
for i = 5, #ARGV do
  local id = redis.call('XADD', KEYS[1], '0-*', 'at', now, 'j', ARGV[i])
  out[#out + 1] = tonumber(string.match(id, '^0%-(%d+)$'))
end
if ARGV[3] ~= '' then redis.call('XTRIM', KEYS[1], 'MAXLEN', '=', tonumber(ARGV[3])) end
if ARGV[4] ~= '' then trimOlder(KEYS[1], now - tonumber(ARGV[4]), 1000) end
if redis.call('XLEN', KEYS[1]) > 0 then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  if ARGV[4] ~= '' and redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[4] then redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) end
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('PUBLISH', ARGV[2], '')
return out
