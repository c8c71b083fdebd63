-- wrk script: cycles through the request paths in the file $WRK_PATHS (one
-- per line, from `loadgen http-paths`), each thread from its own offset, and
-- sends $WRK_TOKEN as a bearer token when set. bench.sh runs it against the
-- gateway's GetAggregate routes.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  paths[#paths + 1] = line
end
local token = os.getenv("WRK_TOKEN")
local threads = 0

function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

-- Each request formatted once, before the run: wrk's own time per request
-- stays that of a static request, so the figures are the gateway's.
local requests = {}
local counter = 0

function init(args)
  local headers = {}
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  for i, path in ipairs(paths) do
    requests[i] = wrk.format("GET", path, headers)
  end
  counter = offset or 0
end

function request()
  counter = counter + 1
  return requests[counter % #requests + 1]
end

-- One line bench.sh reads, in loadgen's RESULT format.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "RESULT label=%s qps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f ok=%d errors=%d\n",
    os.getenv("WRK_LABEL") or "wrk", summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests - errors, errors))
end
