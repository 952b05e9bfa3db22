-- wrk: GET {path}{random id} with ids from MIN_ID to MAX_ID (environment), so every read misses the database's hot
-- pages as a catalog's traffic would, and a cache sees as many keys as there are products. With COLD_ID_MAX set, a
-- share COLD_SHARE (default 0.05) of the reads asks for an id from MAX_ID+1 to COLD_ID_MAX instead: the misses of a
-- cache whose hot set is MIN_ID..MAX_ID (a 95 % hit ratio by default).
local min_id = tonumber(os.getenv("MIN_ID") or "1")
local max_id = tonumber(os.getenv("MAX_ID") or "1")
local cold_max = tonumber(os.getenv("COLD_ID_MAX") or "0")
local cold_share = tonumber(os.getenv("COLD_SHARE") or "0.05")
local prefix = os.getenv("READ_PATH") or "/api/products/"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  if cold_max > max_id and math.random() < cold_share then
    return wrk.format("GET", prefix .. math.random(max_id + 1, cold_max))
  end
  return wrk.format("GET", prefix .. math.random(min_id, max_id))
end
