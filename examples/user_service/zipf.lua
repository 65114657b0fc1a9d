-- wrk script: GET /users/{id} with ids drawn from Zipf(s) over 1..n, the skew of real traffic
-- (a few hot users, a long tail). Ids are spread over the range as in cache_aside_postgres, so
-- the hot ones are not all on the first index pages.
--
--   wrk -t2 -c8 -d5s -s zipf.lua http://127.0.0.1:8080 -- [n [s [seed]]]
--
-- Defaults: n = 10000 (the seeded users), s = 1.0. At the end it prints one line
--   RESULT {"requests":..,"duration_s":..,"rps":..,"p50_ms":..,"p99_ms":..,"errors":{..}}
-- that scripts/demo and the tests read; "status" counts responses outside 2xx/3xx.

local n, s, seed = 10000, 1.0, 42
local cdf, total
local thread_index = 0

function setup(thread)
  thread:set("thread_index", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  n = tonumber(args[1] or n)
  s = tonumber(args[2] or s)
  seed = tonumber(args[3] or seed)
  cdf, total = {}, 0
  for i = 1, n do
    total = total + 1 / i ^ s
    cdf[i] = total
  end
  -- Each thread its own sequence (thread_index is set by setup before init runs).
  math.randomseed(seed + 7919 * (thread_index or 0))
end

local function draw()
  local u = math.random() * total
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return (lo * 7919) % n + 1
end

function request()
  return wrk.format("GET", "/users/" .. draw())
end

function done(summary, latency, requests)
  local e = summary.errors
  local duration_s = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
    summary.requests, duration_s, summary.requests / duration_s,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
