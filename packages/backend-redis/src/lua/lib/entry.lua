--[[
  Shared entry checks, spliced into write-4.lua, delete-4.lua and commit-n.lua where they say
  `--@include lib/entry.lua` (scripts.ts does it when it loads the scripts, so each script is
  still one self-contained body on the server).

  entryVersion(key) -> the version of the entry stored at `key` (0 = absent), or nil when it is
  damaged: no readable `<version>:<updatedAt>:<expiresAt>:` header (an empty string included),
  a format-3 entry whose JSON text no longer has the header's digest, or a format-2 entry
  (no digest) whose value is not JSON as a read would find it. A key of another Redis type
  raises WRONGTYPE (mapped to CorruptDataError by the client).
  One GET: an absent key costs no second call (no EXISTS), a present one no GETRANGE before the
  check. The body is found by position, not copied by a capture.

  For format-2 entries cjson is made strict about numbers for the check (no Infinity, NaN or
  hex; its shared setting is put back at once); nesting deeper than cjson's limit is not damage.

  entryDigest(json) -> the 16 hex digits a format-3 header carries for `json`.
]]
-- The header of a format-3 entry: '<version>:<updatedAt>:<expiresAt>:<digest>:', digest = the
-- first 16 lowercase hex digits of the SHA-1 of the JSON text after it. A format-2 entry (no
-- digest) never matches: a JSON text cannot start with 16 hex digits and a colon.
-- (Written out, not built with string.rep: the library's top level runs on every call.)
local DIGEST_HEADER = '^(%d+):%d+:%d*:([0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]):()'

-- The digest stored in a format-3 header for `json` (what the client computes for a write).
local function entryDigest(json)
  return string.sub(redis.sha1hex(json), 1, 16)
end

local function entryVersion(key)
  local stored = redis.call('GET', key)
  if not stored then return 0 end
  local version, digest, body = string.match(stored, DIGEST_HEADER)
  if version then
    -- Format 3: the JSON text is undamaged exactly when it still has the digest it was written
    -- with (one SHA-1, about a third of a cjson.decode's server time; no parse).
    if entryDigest(string.sub(stored, body)) ~= digest then return nil end
    return tonumber(version)
  end
  -- Format 2 (written before the upgrade, or by a format-2 client still running): no digest, so
  -- the value itself is checked, as format 2 did.
  local at
  version, at = string.match(stored, '^(%d+):%d+:%d*:()')
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
