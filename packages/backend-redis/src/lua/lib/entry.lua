--[[
  Shared entry checks, spliced into write-4.lua, delete-4.lua and commit-n.lua where they say
  `--@include lib/entry.lua` (scripts.ts does it when it loads the scripts, so each script is
  still one self-contained body on the server).

  entryVersion(key) -> the version of the entry stored at `key` (0 = absent), or nil when it is
  damaged: no readable `<version>:<updatedAt>:<expiresAt>:` header (an empty string included),
  or a value after the header that is not JSON as a read would find it. A key of another Redis
  type raises WRONGTYPE (mapped to CorruptDataError by the client).
  One GET: an absent key costs no second call (no EXISTS), a present one no GETRANGE before the
  JSON check (the check reads the whole value anyway). The body is found by position, not
  copied by a capture.

  cjson is made strict about numbers for the check (no Infinity, NaN or hex; its shared setting
  is put back at once); nesting deeper than cjson's limit is not damage.
]]
local function entryVersion(key)
  local stored = redis.call('GET', key)
  if not stored then return 0 end
  local version, at = string.match(stored, '^(%d+):%d+:%d*:()')
  if not version then return nil end
  local lenient = cjson.decode_invalid_numbers()
  cjson.decode_invalid_numbers(false)
  local ok, err = pcall(cjson.decode, string.sub(stored, at))
  cjson.decode_invalid_numbers(lenient)
  if not ok and not string.find(tostring(err), 'nested', 1, true) then return nil end
  return tonumber(version)
end

-- The version of a key as a read-set check needs it (0 = absent, nil = no readable header):
-- the header only (GETRANGE 0 63), so a read of a large value copies 64 bytes, not the value.
local function headerVersion(key)
  local header = redis.call('GETRANGE', key, 0, 63)
  if header ~= '' then return tonumber(string.match(header, '^(%d+):%d+:%d*:')) end
  if redis.call('EXISTS', key) == 1 then return nil end
  return 0
end

-- True when a compare-and-set's `expected` ('' = none, 'absent', or a version number) does not
-- match the entry's `version` (0 = absent): the caller answers {-1, version} (CONFLICT).
local function versionConflict(expected, version)
  if expected == '' then return false end
  if expected == 'absent' then return version ~= 0 end
  return tonumber(expected) ~= version
end
