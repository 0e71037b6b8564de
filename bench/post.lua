-- wrk script: POST signed FreeScout deliveries in rotation, read from the file named by $BENCH_REQUESTS
-- (three lines per request: event, signature, body; written by bench/payloads.py). Prints one JSON line.
local requests = {}
local counter = 0

function init(args)
  local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  while true do
    local event = f:read("*l")
    if not event or event == "" then break end
    local signature = f:read("*l")
    local body = f:read("*l")
    local headers = {
      ["Content-Type"] = "application/json",
      ["X-FreeScout-Event"] = event,
      ["X-FreeScout-Signature"] = signature,
      ["User-Agent"] = "GuzzleHttp/6.5.5 curl/7.88.1 PHP/8.2.7",
    }
    table.insert(requests, wrk.format("POST", wrk.path, headers, body))
  end
  f:close()
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non_2xx":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
