-- wrk: GET {path}{random id} with ids from MIN_ID to MAX_ID (environment), so every read misses the database's hot
-- pages as a catalog's traffic would, and a cache sees as many keys as there are products.
local min_id = tonumber(os.getenv("MIN_ID") or "1")
local max_id = tonumber(os.getenv("MAX_ID") or "1")
local prefix = os.getenv("READ_PATH") or "/api/products/"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", prefix .. math.random(min_id, max_id))
end
