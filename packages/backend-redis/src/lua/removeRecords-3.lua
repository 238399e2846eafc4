--[[
  Drops given records of a native log (a mailbox's acks).

  Input:
    KEYS[1] stream         <prefix>:{<ns>}:g:<log>
    KEYS[2] names          <prefix>:{<ns>}:gnames
    KEYS[3] retention      <prefix>:{<ns>}:gret      (the log's field goes when it empties)

    ARGV[1] log            the log name (member of KEYS[2])
    ARGV[2 ..]             the seqs to drop

  Output:
    removed                how many of them existed
]]
local removed = 0
if #ARGV > 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  local ids = {}
  for i = 2, #ARGV do ids[#ids + 1] = '0-' .. ARGV[i] end
  for i = 1, #ids, 1000 do
    removed = removed + redis.call('XDEL', KEYS[1], unpack(ids, i, math.min(i + 999, #ids)))
  end
end
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
return removed
