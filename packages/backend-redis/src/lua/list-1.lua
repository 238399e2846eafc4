--[[
  One page of live entries in key order, from the namespace's sorted-set index.

  Input:
    KEYS[1] index key      <prefix>:{<ns>}:idx   (members = user keys, all with score 0, so
                           ZRANGEBYLEX gives byte order = the contract's order for ASCII keys)

    ARGV[1] entry prefix   '<prefix>:{<ns>}:k:' (entry key = this .. member)
    ARGV[2] min            ZRANGEBYLEX lower bound: '-', '[<prefix>' or '(<after>'
    ARGV[3] max            ZRANGEBYLEX upper bound: '+' or '[<prefix>\x7f'
    ARGV[4] limit          page size, at least 1

  Output:
    a flat array, per live entry: member, stored string ('<ver>:<upd>:<exp>:<json>');
    a member whose entry is gone (it expired) is removed from the index and skipped;
    an entry key of another Redis type comes back as member, '' (damaged: the client raises
    CorruptDataError rather than skip it).

  The entry keys are read without being declared in KEYS: they are only known once the index
  has been read. They share KEYS[1]'s hash tag {<ns>}, hence its slot, which Redis Cluster
  allows (it refuses only keys that are not local to the node). The loop fills the page even
  when expired members are skipped, so a short page always means the end of the range.
]]
local limit = tonumber(ARGV[4])
local min = ARGV[2]
local out = {}
local found = 0
while found < limit do
  local want = limit - found
  local members = redis.call('ZRANGEBYLEX', KEYS[1], min, ARGV[3], 'LIMIT', 0, want)
  for _, member in ipairs(members) do
    local stored = redis.pcall('GET', ARGV[1] .. member)
    if type(stored) == 'table' then stored = '' end
    if stored then
      out[#out + 1] = member
      out[#out + 1] = stored
      found = found + 1
    else
      redis.call('ZREM', KEYS[1], member)
    end
  end
  if #members < want then break end
  min = '(' .. members[#members]
end
return out
