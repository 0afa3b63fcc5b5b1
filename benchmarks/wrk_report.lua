-- wrk hooks shared by benchmarks/api_wrk.py: an optional JSON body for POSTs (WRK_BODY), the
-- bearer token (WRK_AUTHORIZATION, from the environment: never on wrk's command line), a fresh
-- Idempotency-Key per request (WRK_IDEMPOTENCY_PREFIX) and a machine-readable summary with the
-- percentiles the benchmark reports.
local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

local prefix = os.getenv("WRK_IDEMPOTENCY_PREFIX")
local sent = 0
-- Each wrk thread has its own Lua state: a table's address tells the threads apart.
local thread_tag = string.gsub(tostring({}), "table: ", "")
if prefix ~= nil and prefix ~= "" then
  request = function()
    sent = sent + 1
    wrk.headers["Idempotency-Key"] = string.format("%s-%s-%d", prefix, thread_tag, sent)
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d,' ..
    ' "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
