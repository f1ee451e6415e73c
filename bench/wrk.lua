-- The request of one benchmark row for wrk (bench/bench.mjs sets it through
-- the environment), and a machine-readable summary line at the end.
--   BENCH_METHOD     GET or POST
--   BENCH_AUTH       the bearer credential (Authorization header), if any
--   BENCH_BODY       the JSON body, if any (sent with Content-Type)
--   BENCH_UNIQUE     a prefix: each request's body is BENCH_BODY with %s
--                    replaced by PREFIX_<thread>_<counter>, unique per run
--   BENCH_EXPECT     a string every response body must hold; the bodies that
--                    do not are counted (the line's "mismatched")
-- The last line wrk prints: BENCH_JSON {...} with the requests, the errors
-- wrk counted (status: answers of 400 and above) and the latency percentiles
-- in microseconds.

local method = os.getenv("BENCH_METHOD") or "GET"
local auth = os.getenv("BENCH_AUTH")
local body = os.getenv("BENCH_BODY")
local unique = os.getenv("BENCH_UNIQUE")
local expect = os.getenv("BENCH_EXPECT")

wrk.method = method
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end
if body and body ~= "" then
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
end

-- Main state: the threads, numbered, so done() can read their counters.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

-- Thread states.
mismatched = 0
local counter = 0

if unique and unique ~= "" then
  function request()
    counter = counter + 1
    local key = string.format("%s_%d_%d", unique, tid, counter)
    return wrk.format(nil, nil, nil, (string.gsub(body, "%%s", key)))
  end
end

if expect and expect ~= "" then
  function response(status, headers, resp_body)
    if not string.find(resp_body, expect, 1, true) then
      mismatched = mismatched + 1
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("mismatched") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d,"mismatched":%d,"p50_us":%.1f,"p99_us":%.1f,"max_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, bad, latency:percentile(50), latency:percentile(99), latency.max))
end
