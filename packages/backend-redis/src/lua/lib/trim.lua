--[[
  Shared by append-3.lua, sweepLogs-3.lua and trimLog-3.lua: the age trim of one log stream.
]]
-- Drops the records older than `cutoff` (epoch ms), reading at most `budget` of them: records
-- are in append order and their `at` comes from the server clock, so the first record at or
-- after `cutoff` bounds the trim. Returns how many went.
local function trimOlder(key, cutoff, budget)
  local start = "-"
  local last = nil
  while budget > 0 do
    local entries = redis.call("XRANGE", key, start, "+", "COUNT", 100)
    for _, entry in ipairs(entries) do
      if tonumber(entry[2][2]) >= cutoff then
        return redis.call("XTRIM", key, "MINID", entry[1])
      end
      last = entry[1]
    end
    if #entries < 100 then break end
    budget = budget - #entries
    start = "(" .. last
  end
  if not last then return 0 end
  local seq = tonumber(string.match(last, "^0%-(%d+)$"))
  return redis.call("XTRIM", key, "MINID", "0-" .. (seq + 1))
end
