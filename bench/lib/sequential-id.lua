-- wrk: GET {path}{id} for ids MIN_ID, MIN_ID+1, ... MAX_ID, then again from MIN_ID: fills a cache with a hot set (each
-- wrk thread walks its own share of the range).
local min_id = tonumber(os.getenv("MIN_ID") or "1")
local max_id = tonumber(os.getenv("MAX_ID") or "1")
local prefix = os.getenv("READ_PATH") or "/api/products/"
local threads = 0
local next_id
setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
init = function()
  next_id = min_id + (offset or 0)
end
request = function()
  local id = next_id
  next_id = next_id + 2
  if next_id > max_id then next_id = min_id + (offset or 0) end
  return wrk.format("GET", prefix .. id)
end
