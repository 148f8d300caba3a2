"""The Lua scripts behind :class:`shared.budget.store.BudgetStore`, as source text.

Each runs atomically in Redis and reads the clock with ``redis.call('TIME')``;
``PRELUDE`` and ``WRITES_LIB`` are shared pieces the others are built from.
"""

from __future__ import annotations

__all__ = ["CANCEL", "PRELUDE", "SNAPSHOT", "STEP", "UPDATE", "WRITES_LIB"]

PRELUDE = r"""
if redis.replicate_commands then redis.replicate_commands() end  -- Redis < 5: TIME, then writes
local K_WRITES, K_LEASES, K_PAUSE_ALL, K_PAUSE_WRITES, K_PRIMARY, K_EPOCH =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local L_M, W_M = tonumber(ARGV[1]), tonumber(ARGV[2])
local L_H, W_H = tonumber(ARGV[3]), tonumber(ARGV[4])
local MARGIN, TOL = tonumber(ARGV[5]), tonumber(ARGV[6])
local MAX_IN_FLIGHT, LEASE, MAX_PAUSE = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local A = 9
local LONGEST = math.max(W_M, W_H) + MARGIN

local t = redis.call('TIME')
local NOW = tonumber(t[1]) + tonumber(t[2]) / 1000000

local function f(x) return string.format('%.6f', x) end

local function expire_at(key, when)
  redis.call('PEXPIREAT', key, math.ceil(when * 1000))
end

-- an active pause of one scope: until, reason, set_at (0, '', 0 when none)
local function pause_of(key)
  local v = redis.call('HMGET', key, 'until', 'reason', 'set_at')
  local u = tonumber(v[1])
  if u and u > NOW then return u, v[2] or '', tonumber(v[3]) or 0 end
  return 0, '', 0
end

local function apply_pause(scope, mode, value, reason, started_at)
  local key = K_PAUSE_WRITES
  if scope == 'all' then key = K_PAUSE_ALL end
  local cur = redis.call('HMGET', key, 'until', 'reason', 'set_at')
  local cu, cs = tonumber(cur[1]) or 0, tonumber(cur[3]) or 0
  local active = cu > NOW
  -- an echo: the rejected request was already in flight when this pause was set
  local echo = active and started_at > 0 and cs >= started_at
  local target
  if mode == 'at' then
    target = value
  elseif echo then
    target = cs + value
  else
    target = NOW + value
  end
  target = math.min(target, NOW + MAX_PAUSE)
  local e = 0
  if echo then e = 1 end
  if active and cu >= target then return {0, e, f(cu), cur[2] or '', f(cs)} end
  if (not active) and target <= NOW then return {0, e, '', '', ''} end
  redis.call('HSET', key, 'until', f(target), 'reason', reason, 'set_at', f(NOW))
  expire_at(key, target + 1)
  return {1, e, f(target), reason, f(NOW)}
end

-- The budget's identity, made on first use and never expiring. A caller that knew
-- another one has seen the state vanish (FLUSHDB, failover, restart without
-- persistence) and with it the write log: the first such caller pauses writes for one
-- short window, so no write of the new state lands within that window of a forgotten
-- one. Returns the identity and whether this call paused.
local function check_epoch(known, proposal)
  local cur = redis.call('HGET', K_EPOCH, 'id')
  if not cur then
    cur = proposal
    redis.call('HSET', K_EPOCH, 'id', cur, 'created_at', f(NOW))
  end
  if known == '' or known == cur or redis.call('HEXISTS', K_EPOCH, 'lost_paused') == 1 then
    return cur, 0
  end
  redis.call('HSET', K_EPOCH, 'lost_paused', f(NOW))
  apply_pause('writes', 'for', W_M + MARGIN, 'budget_state_lost: the write log vanished', 0)
  return cur, 1
end

-- the pause a request of this kind ('r' or 'w') honours: writes honour both scopes
local function pause_for(kind)
  local u, r = pause_of(K_PAUSE_ALL)
  if kind == 'w' then
    local u2, r2 = pause_of(K_PAUSE_WRITES)
    if u2 > u then u, r = u2, r2 end
  end
  return u, r
end
"""

WRITES_LIB = r"""
-- entries older than the longest window can no longer matter
local function trim_writes()
  redis.call('ZREMRANGEBYSCORE', K_WRITES, '-inf', f(NOW - LONGEST))
end

-- The earliest slot >= max(NOW, not_before) for one more write appended after every
-- reservation (FIFO) such that every window keeps within its limit: with the log sorted
-- newest first (e1 >= e2 >= ...), a write at s is allowed by limit L in window W iff
-- fewer than L entries lie in (s - W - MARGIN, s], i.e. iff e_L <= s - W - MARGIN.
local function write_slot(not_before)
  local slot, why = NOW, ''
  if not_before > slot then slot, why = not_before, 'paused' end
  local last = redis.call('ZREVRANGE', K_WRITES, 0, 0, 'WITHSCORES')
  if last[2] then
    local s = tonumber(last[2])
    if s > slot then slot, why = s, 'write_queue' end
  end
  local limits = {{L_M, W_M, 'writes_per_minute'}, {L_H, W_H, 'writes_per_hour'}}
  for _, lim in ipairs(limits) do
    local e = redis.call('ZREVRANGE', K_WRITES, lim[1] - 1, lim[1] - 1, 'WITHSCORES')
    if e[2] then
      local s = tonumber(e[2]) + lim[2] + MARGIN
      if s > slot then slot, why = s, lim[3] end
    end
  end
  return slot, why
end

local function add_write(id, slot)
  redis.call('ZADD', K_WRITES, f(slot), id)
  local last = redis.call('ZREVRANGE', K_WRITES, 0, 0, 'WITHSCORES')
  expire_at(K_WRITES, tonumber(last[2]) + LONGEST + 1)
end

local function take_lease(id)
  redis.call('ZREMRANGEBYSCORE', K_LEASES, '-inf', f(NOW))
  if redis.call('ZSCORE', K_LEASES, id) then
    return tonumber(redis.call('ZSCORE', K_LEASES, id))
  end
  if redis.call('ZCARD', K_LEASES) >= MAX_IN_FLIGHT then return nil end
  local exp = NOW + LEASE
  redis.call('ZADD', K_LEASES, f(exp), id)
  local last = redis.call('ZREVRANGE', K_LEASES, 0, 0, 'WITHSCORES')
  expire_at(K_LEASES, tonumber(last[2]) + 1)
  return exp
end

local function lease_wait()
  local first = redis.call('ZRANGE', K_LEASES, 0, 0, 'WITHSCORES')
  if first[2] then return math.max(0, tonumber(first[2]) - NOW) end
  return 0
end

local EPOCH, LOST = '', 0

local function reply(status, wait, reason, detail, slot, lease)
  local s, l = '', ''
  if slot then s = f(slot) end
  if lease then l = f(lease) end
  return {status, f(NOW), f(wait), reason, detail, s, l, EPOCH, LOST}
end
"""

# One step of acquiring: ARGV[A+1..A+7] = id, kind ('r'|'w'), max_wait, honour_pause,
# with_lease, known epoch ('' if none yet), proposed epoch. Replies {status, now, wait,
# reason, detail, slot, lease_expiry, epoch, lost (1: this call found the state lost)}:
#   granted  start now (slot: the write's entry; lease_expiry when a lease was taken)
#   sleep    come back after `wait` with the same id (a write holds its future slot)
#   wait     nothing within max_wait; nothing is held for this id any more
#   busy     every in-flight slot is taken (a write keeps its slot); `wait` is the worst case
STEP = (
    PRELUDE
    + WRITES_LIB
    + r"""
local id, kind = ARGV[A + 1], ARGV[A + 2]
local max_wait = tonumber(ARGV[A + 3])
local honour_pause, with_lease = ARGV[A + 4] == '1', ARGV[A + 5] == '1'
EPOCH, LOST = check_epoch(ARGV[A + 6], ARGV[A + 7])
local pu, pr = 0, ''
if honour_pause then pu, pr = pause_for(kind) end

if kind ~= 'w' then
  if pu > NOW then
    local w = pu - NOW
    if w <= max_wait then return reply('sleep', w, 'paused', pr, nil, nil) end
    return reply('wait', w, 'paused', pr, nil, nil)
  end
  local exp = take_lease(id)
  if not exp then return reply('busy', lease_wait(), 'in_flight', '', nil, nil) end
  return reply('granted', 0, '', '', nil, exp)
end

trim_writes()
local slot = tonumber(redis.call('ZSCORE', K_WRITES, id))
if slot then
  if pu > NOW and slot < pu then          -- paused since it was reserved: queue again
    redis.call('ZREM', K_WRITES, id)
    slot = nil
  elseif slot > NOW then                  -- woke a little early
    return reply('sleep', slot - NOW, 'write_queue', '', slot, nil)
  elseif NOW - slot > TOL then            -- too late for its slot: re-stamp or queue again
    redis.call('ZREM', K_WRITES, id)
    slot = nil
  end
end
if not slot then
  local s, why = write_slot(pu)
  local w = s - NOW
  local detail = ''
  if why == 'paused' then detail = pr end
  if w > max_wait then return reply('wait', w, why, detail, nil, nil) end
  add_write(id, s)
  if w > 0 then return reply('sleep', w, why, detail, s, nil) end
  slot = s
end
if not with_lease then return reply('granted', 0, '', '', slot, nil) end
local exp = take_lease(id)
if not exp then return reply('busy', lease_wait(), 'in_flight', '', slot, nil) end
return reply('granted', 0, '', '', slot, exp)
"""
)

# Forget an id that never started: its write entry and its lease. Removing an entry
# never makes any window fuller, so this is always safe for a request that was not sent.
# Replies {write_removed, lease_was_live}.
CANCEL = (
    PRELUDE
    + r"""
local id = ARGV[A + 1]
local w = redis.call('ZREM', K_WRITES, id)
local lease = tonumber(redis.call('ZSCORE', K_LEASES, id))
redis.call('ZREM', K_LEASES, id)
local l = 0
if lease and lease > NOW then l = 1 end  -- it was still held, not lapsed
return {w, l}
"""
)

# Release a lease, record a primary observation, apply pause orders.
# ARGV[A+1..]: id ('' none), unsent ('1': forget its write too), resource ('' none),
# limit, remaining, used, reset, n, then n times: scope, mode ('for'|'at'), value,
# reason, started_at. Replies {now, lease_released, primary_stored, then per order:
# changed, echo, until, reason, set_at}.
UPDATE = (
    PRELUDE
    + r"""
local id = ARGV[A + 1]
local released = 0
if id ~= '' then
  local lease = tonumber(redis.call('ZSCORE', K_LEASES, id))
  redis.call('ZREM', K_LEASES, id)
  if lease and lease > NOW then released = 1 end  -- it was still held, not lapsed
  if ARGV[A + 2] == '1' then redis.call('ZREM', K_WRITES, id) end
end

local stored = 0
local res = ARGV[A + 3]
if res ~= '' then
  local remaining, reset = tonumber(ARGV[A + 5]), tonumber(ARGV[A + 7])
  local cur = redis.call('HMGET', K_PRIMARY, res .. ':reset', res .. ':remaining')
  local cr, cm = tonumber(cur[1]), tonumber(cur[2])
  -- answers arrive out of order: keep the lowest remaining of the newest window
  if (not cr) or reset > cr or (reset == cr and (not cm or remaining < cm)) then
    redis.call('HSET', K_PRIMARY,
      res .. ':limit', ARGV[A + 4], res .. ':remaining', ARGV[A + 5],
      res .. ':used', ARGV[A + 6], res .. ':reset', ARGV[A + 7],
      res .. ':observed_at', f(NOW))
    expire_at(K_PRIMARY, math.max(reset, NOW) + 3600)
    stored = 1
  end
end

local out = {f(NOW), released, stored}
local n = tonumber(ARGV[A + 8])
for i = 0, n - 1 do
  local b = A + 9 + i * 5
  local r = apply_pause(ARGV[b], ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3],
    tonumber(ARGV[b + 4]))
  for _, v in ipairs(r) do table.insert(out, v) end
end
return out
"""
)

# Read-only: everything a snapshot shows, in one round trip.
SNAPSHOT = (
    PRELUDE
    + r"""
local function s(v) if v then return v end return '' end
local out = {
  f(NOW),
  redis.call('ZCOUNT', K_WRITES, '(' .. f(NOW - W_M), f(NOW)),
  redis.call('ZCOUNT', K_WRITES, '(' .. f(NOW - W_H), f(NOW)),
  redis.call('ZCOUNT', K_WRITES, '(' .. f(NOW), '+inf'),
  redis.call('ZCOUNT', K_LEASES, '(' .. f(NOW), '+inf'),
}
for _, key in ipairs({K_PAUSE_ALL, K_PAUSE_WRITES}) do
  local v = redis.call('HMGET', key, 'until', 'reason', 'set_at')
  table.insert(out, s(v[1])); table.insert(out, s(v[2])); table.insert(out, s(v[3]))
end
for _, v in ipairs(redis.call('HGETALL', K_PRIMARY)) do table.insert(out, v) end
return out
"""
)
