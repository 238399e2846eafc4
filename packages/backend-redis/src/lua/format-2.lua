--[[
  Checks the store's format marker on open and, for a store without one (a first-wave store, or
  a new namespace), sets it, upgrading in place: the version floor is set above every existing
  entry's version. Runs one page of the index per call, so no call blocks the server for long;
  the client calls again with the last member seen until the index is read, moves the
  first-wave coordination keys into the native layout (moveJob-10.lua, moveQueueSeq-3.lua,
  moveLog-n.lua), then calls once more to finish. Idempotent and
  crash-safe: the marker is written last, after the floor, so an upgrade cut short starts over.

  Input:
    KEYS[1] meta hash      <prefix>:{<ns>}:meta   (fields 'format', 'floor')
    KEYS[2] index key      <prefix>:{<ns>}:idx

    ARGV[1] format         the format this client writes (a positive integer)
    ARGV[2] after          '' to start, else the last index member of the previous page
    ARGV[3] page           members per call
    ARGV[4] entry prefix   '<prefix>:{<ns>}:k:' as the server sees it
    ARGV[5] max so far     highest version found by the previous pages ('0' to start)
    ARGV[6] mode           'scan': read pages, never set the marker (the client moves the
                           first-wave coordination keys between the scan and the finish);
                           'finish': set the floor to at least ARGV[5], then the marker
    ARGV[7] had entries    'finish' only: '1' when the scan found any entry

  Output:
    {1}                    the store has this format: ready
    {5, format}            the store had the older `format` (2, which this client reads): the
                           marker is set to ARGV[1]; ready
    {-8, format}           NEWER_FORMAT: the store was written by a newer release; untouched
    {0, last, max}         scan: a full page was read; call again with after = last, max = max
    {4, max, any}          scan: the index is read; max = the highest version of any entry,
                           any = 1 when the index held any member
    {2, floor}             finish: upgraded a store that held entries: marker set, floor = floor
    {3}                    finish: a new namespace: marker set

  Entry keys are read without being declared (as list-1.lua does): they share KEYS[2]'s slot.
]]
local format = redis.call('HGET', KEYS[1], 'format')
if format then
  if tonumber(format) > tonumber(ARGV[1]) then return {-8, format} end
  -- Format 2 -> 3 adds only the entry digest, and format-3 clients read format-2 entries: the
  -- marker is the whole upgrade (it also refuses format-2 clients from now on).
  if tonumber(format) < tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'format', ARGV[1])
    return {5, format}
  end
  return {1}
end

if ARGV[6] == 'finish' then
  local floor = tonumber(redis.call('HGET', KEYS[1], 'floor') or '0')
  if tonumber(ARGV[5]) > floor then
    floor = tonumber(ARGV[5])
    redis.call('HSET', KEYS[1], 'floor', floor)
  end
  redis.call('HSET', KEYS[1], 'format', ARGV[1])
  if ARGV[7] == '1' then return {2, floor} end
  return {3}
end

local min = ARGV[2] == '' and '-' or ('(' .. ARGV[2])
local page = tonumber(ARGV[3])
local max = tonumber(ARGV[5])
local members = redis.call('ZRANGEBYLEX', KEYS[2], min, '+', 'LIMIT', 0, page)
for _, member in ipairs(members) do
  local header = redis.pcall('GETRANGE', ARGV[4] .. member, 0, 63)
  if type(header) == 'string' and header ~= '' then
    local version = tonumber(string.match(header, '^(%d+):'))
    if version and version > max then max = version end
  end
end
if #members == page then return {0, members[#members], max} end
return {4, max, (ARGV[2] ~= '' or #members > 0) and 1 or 0}
