--[[
  Format upgrade: moves a first-wave queue's sequence counter (`@q/<queue>/seq`) into the native
  counter (kept at the higher of the two), then deletes the entry, atomically.

  Input:
    KEYS[1] entry key      <prefix>:{<ns>}:k:@q/<queue>/seq
    KEYS[2] index key      <prefix>:{<ns>}:idx
    KEYS[3] seq            <prefix>:{<ns>}:q:<queue>:seq

    ARGV[1] member         the entry's user key (index member)
    ARGV[2] version        the entry version the client read; another version: not moved
    ARGV[3] n              the counter's value

  Output:
    {1}                    moved
    {0}                    the entry changed or is gone; nothing done
]]
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
if tonumber(string.match(header, '^(%d+):') or '-1') ~= tonumber(ARGV[2]) then return {0} end
local n = tonumber(ARGV[3])
if n > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], n) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1}
