--[[
  Format upgrade: moves a whole first-wave portable log (a channel's `@ch/<channel>/m/<n>` or a
  mailbox's `@mail/<agent>/m/<n>` entries, and its `…/seq` counter) into its native stream in
  one atomic step. Records keep their seq (entry id 0-<n>, oldest first), so mailbox message ids
  stay valid; the counter becomes the stream's last-generated id, so seqs never repeat. Every
  entry's version is checked first: if any changed (another upgrader, a late first-wave
  writer), nothing is done and the client lists again.

  Keys: variable ("-n"): numkeys = 3 + #entries.
    KEYS[1]                index key    <prefix>:{<ns>}:idx
    KEYS[2]                stream       <prefix>:{<ns>}:g:<log>
    KEYS[3]                names        <prefix>:{<ns>}:gnames
    KEYS[3 + i]            entry key i, records in seq order, then the counter if any

  ARGV:
    ARGV[1]                the log name
    ARGV[2]                #records
    ARGV[3]                the counter's value, '' when there is no counter entry
    ARGV[4 + 5(i-1) ..]    entry i: member, version, then for a record n, at, json
                           (for the counter: member, version, '', '', '')

  Output:
    {1}                    moved
    {0}                    an entry changed or is gone; nothing done
]]
local nRecords = tonumber(ARGV[2])
local nEntries = #KEYS - 3
for i = 1, nEntries do
  local base = 4 + 5 * (i - 1)
  local header = redis.call('GETRANGE', KEYS[3 + i], 0, 63)
  if tonumber(string.match(header, '^(%d+):') or '-1') ~= tonumber(ARGV[base + 1]) then return {0} end
end
for i = 1, nRecords do
  local base = 4 + 5 * (i - 1)
  local added = redis.pcall('XADD', KEYS[2], '0-' .. ARGV[base + 2], 'at', ARGV[base + 3], 'j', ARGV[base + 4])
  if type(added) ~= 'string' then
    -- The stream is past this seq already (native appends came first): append it with a new seq.
    redis.call('XADD', KEYS[2], '0-*', 'at', ARGV[base + 3], 'j', ARGV[base + 4])
  end
end
if ARGV[3] ~= '' then
  -- An entry at 0-n, deleted at once, leaves the last-generated id at least 0-n; refused when
  -- the stream is past it already, which is just as good.
  local added = redis.pcall('XADD', KEYS[2], '0-' .. ARGV[3], 'at', 0, 'j', 'null')
  if type(added) == 'string' then redis.call('XDEL', KEYS[2], added) end
end
if nRecords > 0 then redis.call('ZADD', KEYS[3], 0, ARGV[1]) end
for i = 1, nEntries do
  redis.call('DEL', KEYS[3 + i])
  redis.call('ZREM', KEYS[1], ARGV[4 + 5 * (i - 1)])
end
return {1}
