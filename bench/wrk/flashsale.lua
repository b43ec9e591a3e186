-- Shoppers hammering a flash sale: POST /api/v1/flashsales/<sale>/reservations, as a channel's
-- backend sends them for its shoppers.
-- Args after `--`: <Authorization header> <sale id> <run tag> <first person> <persons> <think ms>
--                  <wrk threads> [route, default reservations]
-- Every click asks for 1 unit of SKU-A.
-- Each wrk connection is one shopper's device: it clicks, reads the answer, then waits a random
-- think time of 0.5-1.5 x <think ms> before its next click (0: no wait, as fast as it can). Persons
-- are P plus 8 digits, <first person> to <first person> + <persons> - 1, handed out in turn, so
-- each click is a new person (the per-person limit never refuses one) unless the range runs out.
-- The mix: 98% a new eligible person; 1% an ineligible one (X...: 403 flashsale.ineligible); 1% the
-- same click again with the same Idempotency-Key (200, the first reservation replayed). A 202 from
-- the waiting room is answered by coming back with its ticket once its Retry-After has passed.
-- Each shopper sends its own address in X-Forwarded-For, as a channel's backend passes it on.
-- done() prints one JSON line that bench/flashsale.py reads.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  auth, sale, run = args[1], args[2], args[3]
  first, persons, think = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  nthreads = tonumber(args[7])  -- each thread's Lua state has its own counter: wrk -t is passed
  route = args[8] or "reservations"
  sku, quantity = "SKU-A", 1
  n, handed, returns = 0, 0, 0
  statuses, codes = {}, {}
  first_error = ""
  last_person, last_key = nil, nil
  returning = {}  -- waiting-room tickets to come back with: {due, person, key, ticket}
  math.randomseed(tonumber(run) * 1000 + tid)
  wrk.method = "POST"
  wrk.path = "/api/v1/flashsales/" .. sale .. "/" .. route
  wrk.headers["Authorization"] = auth
  wrk.headers["Content-Type"] = "application/json"
end

local function body(person, ticket)
  local extra = ""
  if ticket then extra = ',"ticket":"' .. ticket .. '"' end
  return '{"sku":"' .. sku .. '","person_id":"' .. person .. '","quantity":' .. quantity .. extra .. '}'
end

local function address(number)
  return string.format("10.%d.%d.%d", math.floor(number / 65536) % 256,
    math.floor(number / 256) % 256, number % 256)
end

function request()
  n = n + 1
  local back = returning[1]
  if back and back.due <= os.time() then
    table.remove(returning, 1)
    wrk.headers["Idempotency-Key"] = back.key
    wrk.headers["X-Forwarded-For"] = address(n)
    last_person, last_key = back.person, back.key
    return wrk.format(nil, nil, nil, body(back.person, back.ticket))
  end
  local draw = math.random(100)
  local person, key
  if draw == 1 and last_person then
    person, key = last_person, last_key  -- the same click again
  elseif draw == 2 then
    person = string.format("X%08d", math.random(0, 99999999))
    key = "r" .. run .. "-" .. tid .. "-" .. n
  else
    local number = first + (handed * nthreads + tid - 1) % persons
    handed = handed + 1
    person = string.format("P%08d", number)
    key = "r" .. run .. "-" .. tid .. "-" .. n
  end
  last_person, last_key = person, key
  wrk.headers["Idempotency-Key"] = key
  wrk.headers["X-Forwarded-For"] = address(n)
  return wrk.format(nil, nil, nil, body(person))
end

function delay()
  if think <= 0 then return 0 end
  return math.floor(think * (0.5 + math.random()))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 400 then
    local code = string.match(body or "", '"code":"([^"]+)"') or tostring(status)
    codes[code] = (codes[code] or 0) + 1
    if first_error == "" and status >= 500 then
      first_error = status .. " " .. string.sub(body or "", 1, 200)
    end
  elseif status == 202 then
    -- Several connections share this thread, so the answer names whose ticket it is.
    local ticket = string.match(body or "", '"ticket":"([^"]+)"')
    local person = string.match(body or "", '"person_id":"([^"]+)"')
    local wait = tonumber(headers["retry-after"] or headers["Retry-After"] or "1")
    if ticket and person then
      returns = returns + 1
      table.insert(returning, {due = os.time() + wait, person = person,
        key = "r" .. run .. "-" .. tid .. "-back" .. returns, ticket = ticket})
    end
  end
end

local function merge(name)
  local merged = {}
  for _, thread in ipairs(threads) do
    for k, count in pairs(thread:get(name)) do
      merged[k] = (merged[k] or 0) + count
    end
  end
  return merged
end

local function json_object(map, quote_keys)
  local parts = {}
  for k, count in pairs(map) do
    table.insert(parts, string.format('"%s": %d', tostring(k), count))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local errors = {}
  for _, thread in ipairs(threads) do
    local first = thread:get("first_error")
    if first ~= "" then
      local escaped = first:gsub("%c", " "):gsub("\\", "\\\\"):gsub('"', '\\"')
      table.insert(errors, '"' .. escaped .. '"')
    end
  end
  io.write(string.format(
    '{"requests": %d, "non2xx": %d, "socket_errors": %d, "timeouts": %d, "duration_us": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "statuses": %s, "codes": %s, ' ..
    '"first_errors": [%s]}\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.timeout, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, json_object(merge("statuses")),
    json_object(merge("codes")), table.concat(errors, ", ")))
end
