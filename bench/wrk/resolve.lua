-- POST /api/v1/identity/resolve with the mix a store's systems send: 90% a known member's phone,
-- 5% a known app uid, 5% a phone no one has (the server creates a provisional person for it).
-- Args after `--`: <Authorization header> <run tag, one digit 1-9> <members loaded>.
-- Known phones are 139 and 8 digits, app uids U and 9 digits, both 0 to members - 1, as
-- bench/identity_resolve.py loads them; new phones are 137, the run tag, the thread and a counter,
-- so no two requests of any run repeat one. Every request has its own Idempotency-Key.
-- done() prints one JSON line that bench/identity_resolve.py reads.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  auth, run, members = args[1], args[2], tonumber(args[3])
  n, fresh = 0, 0
  statuses = {}
  first_error = ""
  math.randomseed(tonumber(run) * 1000 + tid)
  wrk.method = "POST"
  wrk.path = "/api/v1/identity/resolve"
  wrk.headers["Authorization"] = auth
  wrk.headers["Content-Type"] = "application/json"
end

local function body(kind, value)
  return '{"identifiers":[{"type":"' .. kind .. '","value":"' .. value .. '"}],"create":true}'
end

function request()
  n = n + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. run .. "-" .. tid .. "-" .. n
  local draw = math.random(100)
  local payload
  if draw <= 90 then
    payload = body("phone", string.format("139%08d", math.random(0, members - 1)))
  elseif draw <= 95 then
    payload = body("app_uid", string.format("U%09d", math.random(0, members - 1)))
  else
    fresh = fresh + 1
    payload = body("phone", string.format("137%s%d%06d", run, tid, fresh))
  end
  return wrk.format(nil, nil, nil, payload)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and first_error == "" then
    first_error = status .. " " .. string.sub(body or "", 1, 200)
  end
end

function done(summary, latency, requests)
  local merged, errors = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
    local first = thread:get("first_error")
    if first ~= "" then
      local escaped = first:gsub("%c", " "):gsub("\\", "\\\\"):gsub('"', '\\"')
      table.insert(errors, '"' .. escaped .. '"')
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write(string.format(
    '{"requests": %d, "non2xx": %d, "socket_errors": %d, "duration_us": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}, "first_errors": [%s]}\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, table.concat(parts, ", "), table.concat(errors, ", ")))
end
