-- wrk script: check every response and print one JSON line of totals and latency.
--
-- With BENCH_EXPECT_FILE set, each response must be status 200 with exactly that body
-- (LuaJIT interns strings, so the comparison costs one memcmp). Without it, no body is
-- buffered (the 10 MiB case): wrk counts non-2xx/3xx statuses and the bytes it read,
-- and the caller checks those bytes against the requests completed.

local expect_path = os.getenv("BENCH_EXPECT_FILE")
local expected = nil
if expect_path and expect_path ~= "" then
  local f = assert(io.open(expect_path, "rb"))
  expected = f:read("*a")
  f:close()
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  good, bad, bad_status = 0, 0, 0
end

if expected then
  function response(status, headers, body)
    if status == 200 and body == expected then
      good = good + 1
    else
      bad = bad + 1
      if bad_status == 0 then bad_status = status end
    end
  end
end

function done(summary, latency, requests)
  local good_total, bad_total, first_bad = 0, 0, 0
  for _, t in ipairs(threads) do
    good_total = good_total + t:get("good")
    bad_total = bad_total + t:get("bad")
    if first_bad == 0 then first_bad = t:get("bad_status") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"checked":%s,"good":%d,"bad":%d,' ..
    '"first_bad_status":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, expected and "true" or "false",
    good_total, bad_total, first_bad, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
