-- POST Segment events with unique messageIds: /v1/batch with `per` events, or /v1/track with one.
-- Args after `--`: <Authorization header> <run prefix> <events per request> <path>.
-- done() prints one JSON line that bench/http_intake.py reads.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  auth, run, per, path = args[1], args[2], tonumber(args[3]), args[4]
  n = 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = auth
  wrk.headers["Content-Type"] = "application/json"
end

local function event(id)
  return '{"type":"track","messageId":"' .. id .. '","userId":"u' .. (n % 1000) ..
    '","event":"Product Viewed","properties":{"product_id":"P42","store_id":"S7","price":2800}}'
end

function request()
  n = n + 1
  local base = run .. "-" .. tid .. "-" .. n
  local body
  if per == 1 then
    body = event(base)
  else
    local parts = {}
    for i = 1, per do parts[i] = event(base .. "-" .. i) end
    body = '{"batch":[' .. table.concat(parts, ",") .. ']}'
  end
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "non2xx": %d, "socket_errors": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
