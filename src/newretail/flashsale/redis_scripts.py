"""The Lua scripts of the Redis engine and the keys they touch.

Per sale, under ``<prefix>fs:<sale id>:``:

- ``meta`` hash: sale, starts, ends (ms), limit, window (ms), everyone (1 or 0); its existence
  means the sale is armed
- ``stock`` / ``initial`` hashes: SKU -> units remaining / units at arming
- ``eligible`` set of person ids (empty when everyone may buy)
- ``held`` hash: person -> units reserved or paid (what the per-person limit counts)
- ``requests`` hash: ``person|request key`` -> reservation id (repeated clicks)
- ``reservations`` hash: reservation id -> ``state|sku|person|quantity|reserved ms|expires ms|key``,
  state ``R``, ``P`` or ``X``; it is the order record (:mod:`~newretail.flashsale.records`) without
  its first four fields
- ``deadlines`` sorted set: unpaid reservation id scored by its expiry (ms)
- ``stats`` hash: sequence, reservations, payments, expiries, ``reserved:<sku>``, ``paid:<sku>``,
  ``expired:<sku>`` (units) and ``rejected:<reason>``

Shared: ``<prefix>fs:events``, the stream of order records the order writer consumes, and
``<prefix>fs:armed``, the sales the expiry sweep visits. A script runs atomically, so each reservation's
checks, stock decrement, bookkeeping and XADD happen together or not at all. Lua formats a number
with 14 significant digits, enough for millisecond timestamps until the year 5138.
"""

from __future__ import annotations

# KEYS: meta, stock, initial, armed. ARGV: sale, starts, ends, limit, window, everyone, then pairs
# of SKU and stock. Returns 1 when armed now, 0 when the sale was armed before (nothing changes).
ARM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 7, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[1], 'sale', ARGV[1], 'starts', ARGV[2], 'ends', ARGV[3],
  'limit', ARGV[4], 'window', ARGV[5], 'everyone', ARGV[6])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
"""

# KEYS: meta, stock, eligible, held, requests, reservations, deadlines, stats, events, armed.
# ARGV: sku, person, quantity, request key, now (ms).
# Returns {'reserved', id, expires ms}, {'replayed', id, reservation value} or {reason}.
RESERVE = """
local meta = redis.call('HMGET', KEYS[1], 'sale', 'starts', 'ends', 'limit', 'window', 'everyone')
local sale = meta[1]
if not sale then return {'unknown_sale'} end
local request = ARGV[2] .. '|' .. ARGV[4]
local earlier = redis.call('HGET', KEYS[5], request)
if earlier then return {'replayed', earlier, redis.call('HGET', KEYS[6], earlier)} end
local now = tonumber(ARGV[5])
local quantity = tonumber(ARGV[3])
local reason
if now < tonumber(meta[2]) then
  reason = 'not_started'
elseif now >= tonumber(meta[3]) then
  reason = 'ended'
elseif meta[6] ~= '1' and redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then
  reason = 'ineligible'
else
  local remaining = redis.call('HGET', KEYS[2], ARGV[1])
  if not remaining then
    reason = 'unknown_item'
  elseif tonumber(redis.call('HGET', KEYS[4], ARGV[2]) or '0') + quantity > tonumber(meta[4]) then
    reason = 'limit_reached'
  elseif tonumber(remaining) < quantity then
    reason = 'sold_out'
  end
end
if reason then
  redis.call('HINCRBY', KEYS[8], 'rejected:' .. reason, 1)
  return {reason}
end
redis.call('HINCRBY', KEYS[2], ARGV[1], -quantity)
redis.call('HINCRBY', KEYS[4], ARGV[2], quantity)
local id = sale .. '-' .. redis.call('HINCRBY', KEYS[8], 'sequence', 1)
local expires = now + tonumber(meta[5])
local body = ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[5] .. '|' .. expires
  .. '|' .. ARGV[4]
redis.call('HSET', KEYS[6], id, 'R|' .. body)
redis.call('HSET', KEYS[5], request, id)
redis.call('ZADD', KEYS[7], expires, id)
-- Back into the sweep, should a server whose clock lags have reserved after the sale left it.
redis.call('SADD', KEYS[10], sale)
redis.call('HINCRBY', KEYS[8], 'reservations', 1)
redis.call('HINCRBY', KEYS[8], 'reserved:' .. ARGV[1], quantity)
redis.call('XADD', KEYS[9], '*', 'e', 'R|' .. ARGV[5] .. '|' .. id .. '|' .. sale .. '|' .. body)
return {'reserved', id, expires}
"""

# KEYS: meta. ARGV: now (ms). Moves the sale's end forward to now (never later); returns 0 when the
# sale is not armed.
END = """
local ends = redis.call('HGET', KEYS[1], 'ends')
if not ends then return 0 end
if tonumber(ARGV[1]) < tonumber(ends) then redis.call('HSET', KEYS[1], 'ends', ARGV[1]) end
return 1
"""

# KEYS: reservations, deadlines, stats, events. ARGV: reservation id, now (ms), sale.
# Returns paid, replayed (paid before), expired or unknown. Runs atomically with EXPIRE, so a
# reservation is never both paid and expired.
PAY = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 'unknown' end
local state = string.sub(value, 1, 1)
if state == 'P' then return 'replayed' end
local sku, quantity, expires = string.match(value, '^R|([^|]*)|[^|]*|(%d+)|%d+|(%d+)|')
if state == 'X' or tonumber(ARGV[2]) >= tonumber(expires) then return 'expired' end
local rest = string.sub(value, 3)
redis.call('HSET', KEYS[1], ARGV[1], 'P|' .. rest)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'payments', 1)
redis.call('HINCRBY', KEYS[3], 'paid:' .. sku, quantity)
redis.call('XADD', KEYS[4], '*', 'e', 'P|' .. ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[3] .. '|' .. rest)
return 'paid'
"""

# KEYS: deadlines, reservations, stock, held, stats, events, meta, armed. ARGV: now (ms), sale,
# batch size. Expires up to a batch of due reservations; returns {number due in the batch, {expired
# ids}}. A sale past its end and its last payment window, with nothing left to expire, leaves the
# armed set, so the sweep does not visit finished sales for ever.
EXPIRE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local expired = {}
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local value = redis.call('HGET', KEYS[2], id)
  if value and string.sub(value, 1, 1) == 'R' then
    local rest = string.sub(value, 3)
    local sku, person, quantity = string.match(rest, '^([^|]*)|([^|]*)|(%d+)|')
    redis.call('HSET', KEYS[2], id, 'X|' .. rest)
    redis.call('HINCRBY', KEYS[3], sku, quantity)
    redis.call('HINCRBY', KEYS[4], person, -quantity)
    redis.call('HINCRBY', KEYS[5], 'expiries', 1)
    redis.call('HINCRBY', KEYS[5], 'expired:' .. sku, quantity)
    redis.call('XADD', KEYS[6], '*', 'e', 'X|' .. ARGV[1] .. '|' .. id .. '|' .. ARGV[2] .. '|' .. rest)
    expired[#expired + 1] = id
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  local meta = redis.call('HMGET', KEYS[7], 'ends', 'window')
  if meta[1] and tonumber(ARGV[1]) >= tonumber(meta[1]) + tonumber(meta[2]) then
    redis.call('SREM', KEYS[8], ARGV[2])
  end
end
return {#due, expired}
"""
