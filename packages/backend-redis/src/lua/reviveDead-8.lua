--[[
  A dead letter back to waiting (attempts reset to 0) or deleted for good.

  Input (the queue's keys, as in enqueue-8.lua):
    KEYS[1] ready  KEYS[2] delayed (unused)  KEYS[3] inflight (unused)  KEYS[4] jobs
    KEYS[5] dead   KEYS[6] all  KEYS[7] seq (unused)  KEYS[8] names

    ARGV[1] id             the dead letter
    ARGV[2] action         'retry' | 'delete'
    ARGV[3] queue          the queue name (member of KEYS[8])
    ARGV[4] channel        the queue's wake channel (a retry wakes listeners)

  Output:
    {1}                    done
    {0}                    no such dead letter; nothing changed
]]
local record = redis.call('HGET', KEYS[4], ARGV[1])
if not record then return {0} end
local state, _, priority, enqueuedAt, _, _, json = string.match(record, '^(%a):(%d+):(%-?%d+):(%d+):(%d*):([%w]*):(.*)$')
if state ~= 'x' then return {0} end
redis.call('ZREM', KEYS[5], ARGV[1])
if ARGV[2] == 'retry' then
  redis.call('HSET', KEYS[4], ARGV[1], 'w:0:' .. priority .. ':' .. enqueuedAt .. ':::' .. json)
  redis.call('ZADD', KEYS[1], -tonumber(priority), ARGV[1])
  redis.call('PUBLISH', ARGV[4], '')
else
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[6], ARGV[1])
  if redis.call('HLEN', KEYS[4]) == 0 then redis.call('ZREM', KEYS[8], ARGV[3]) end
end
return {1}
