-- Members checking out in the app: POST /api/v1/orders, each order paid from the member's wallet with
-- one of the member's own coupons, earning points.
-- Args after `--`: <Authorization header> <plan file> <run tag> <first slot> <wrk threads>
--                  <file to list the 201s' client order ids in, one per thread: <file>.<thread>>
-- The plan file (bench/checkout.py writes it) has one line per member: the member's app uid, then
-- the codes of the coupons issued to them, in the order they are to be used. Slots are numbered
-- across runs: slot s is member s mod M with that member's (s div M + 1)-th coupon, so no two
-- requests of any run share a coupon, and a member's next order comes M slots later (no member
-- has two orders in flight). Threads take slots in turn from <first slot>. Every request is unique:
-- its own client_order_id and Idempotency-Key (both from the run tag and the slot). The basket: one
-- coffee (M or L) and one food item at one of 20 stores, always above the coupon's threshold.
-- done() prints one JSON line that bench/checkout.py reads; `handed` is the most slots a thread
-- took, so the next run starts at <first slot> + handed x threads.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local function read_plan(path)
  local members = {}
  for line in io.lines(path) do
    local fields = {}
    for field in string.gmatch(line, "%S+") do table.insert(fields, field) end
    table.insert(members, fields)
  end
  return members
end

function init(args)
  auth, run = args[1], args[3]
  plan = read_plan(args[2])
  first, nthreads = tonumber(args[4]), tonumber(args[5])
  ok_file = io.open(args[6] .. "." .. tid, "a")
  ok_file:setvbuf("line")
  handed, no_coupon = 0, 0
  statuses, codes = {}, {}
  first_error = ""
  math.randomseed(tonumber(run) * 1000 + tid)
  wrk.method = "POST"
  wrk.path = "/api/v1/orders"
  wrk.headers["Authorization"] = auth
  wrk.headers["Content-Type"] = "application/json"
end

local coffees = {"C001", "C002", "C003", "C004"}
local foods = {"F001", "F002", "F003"}
local sizes = {"M", "L"}

function request()
  local slot = first + handed * nthreads + tid - 1
  handed = handed + 1
  local member = plan[slot % #plan + 1]
  local coupon = member[math.floor(slot / #plan) + 2]
  local coupons = ""
  if coupon then
    coupons = '"' .. coupon .. '"'
  else
    no_coupon = no_coupon + 1  -- the plan has run out: the order goes without a coupon
  end
  local id = "b" .. run .. "-" .. slot
  wrk.headers["Idempotency-Key"] = "k" .. run .. "-" .. slot
  local body = '{"channel":"app","store_id":"' .. string.format("S%04d", math.random(20)) ..
    '","client_order_id":"' .. id .. '","payment_method":"stored_value",' ..
    '"member":{"source":"app","source_record_id":"' .. member[1] .. '"},' ..
    '"coupons":[' .. coupons .. '],"lines":[' ..
    '{"product_id":"' .. coffees[math.random(#coffees)] .. '","quantity":1,"size":"' ..
    sizes[math.random(2)] .. '"},' ..
    '{"product_id":"' .. foods[math.random(#foods)] .. '","quantity":1}]}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    local id = string.match(body or "", '"client_order_id":"([^"]+)"')
    if id then ok_file:write(id, "\n") end
  elseif status >= 400 then
    local code = string.match(body or "", '"code":"([^"]+)"') or tostring(status)
    codes[code] = (codes[code] or 0) + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 200)
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

local function json_object(map)
  local parts = {}
  for k, count in pairs(map) do
    table.insert(parts, string.format('"%s": %d', tostring(k), count))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local errors, most, missing = {}, 0, 0
  for _, thread in ipairs(threads) do
    local first_err = thread:get("first_error")
    if first_err ~= "" then
      local escaped = first_err:gsub("%c", " "):gsub("\\", "\\\\"):gsub('"', '\\"')
      table.insert(errors, '"' .. escaped .. '"')
    end
    most = math.max(most, thread:get("handed"))
    missing = missing + thread:get("no_coupon")
  end
  io.write(string.format(
    '{"requests": %d, "socket_errors": %d, "timeouts": %d, "duration_us": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d, "statuses": %s, "codes": %s, "handed": %d, ' ..
    '"no_coupon": %d, "first_errors": [%s]}\n',
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.timeout, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, json_object(merge("statuses")), json_object(merge("codes")),
    most, missing, table.concat(errors, ", ")))
end
