-- wrk script: POST /api/v1/signals with unique, elfproef-valid BSNs.
--
-- Usage: wrk -t T -c C -d D -s post_signals.lua URL -- NTHREADS OFFSET [PATH]
-- Tokens come from the environment (BENCH_TOKEN_A, BENCH_TOKEN_B), not argv, so they do not show
-- up in `ps`. Requests alternate between the two professionals.
--
-- BSN scheme (same as bench/bsn.py): thread `tid` of `nthreads` uses child prefix
-- 10_000_000 + (OFFSET + k*NTHREADS + tid) mod 80_000_000 for k = 0, 1, 2, ..., skipping prefixes
-- without a check digit, so children never repeat within a run; the orchestrator advances OFFSET
-- past the largest k reported (counter_max) before the next run, and starts from a random OFFSET,
-- so they do not repeat across runs either. Parents live in 90_000_000.. in windows of 16 per
-- family; the family slot is OFFSET + floor(n/3)*NTHREADS + tid for the n-th request of a thread.
-- Per 6 requests: 2 without parents, 4 with 1-2 parents, forming 2 sibling pairs that share a
-- parent (and are signalled by different professionals): real gezinsmatch work.

local script_dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
package.path = script_dir .. "?.lua;" .. package.path
local report = require("report")

local CHILD_BASE, CHILD_SPAN = 10000000, 80000000
local PARENT_BASE, PARENT_WINDOW = 90000000, 16
local PARENT_SLOTS = math.floor(9999999 / PARENT_WINDOW)

local function check_digit(prefix)
  -- sum(digit[i] * (9 - i)) over the 8 prefix digits; the last prefix digit has weight 2
  local s, p = 0, prefix
  for w = 2, 9 do
    s = s + (p % 10) * w
    p = math.floor(p / 10)
  end
  local d = s % 11
  if d == 10 then return nil end
  return d
end

local function parents_of(slot)
  local base = PARENT_BASE + (slot % PARENT_SLOTS) * PARENT_WINDOW
  local found = {}
  for prefix = base, base + PARENT_WINDOW - 1 do
    local d = check_digit(prefix)
    if d then
      table.insert(found, string.format("%08d%d", prefix, d))
      if #found == 2 then return found[1], found[2] end
    end
  end
end

function setup(thread)
  report.setup(thread)
end

function init(args)
  nthreads = tonumber(args[1]) or 1
  offset = tonumber(args[2]) or 0
  path = args[3] or "/api/v1/signals"
  k, n = 0, 0
  local a = os.getenv("BENCH_TOKEN_A") or "none"
  local b = os.getenv("BENCH_TOKEN_B") or a
  headers = {
    { ["Authorization"] = "Bearer " .. a, ["Content-Type"] = "application/json" },
    { ["Authorization"] = "Bearer " .. b, ["Content-Type"] = "application/json" },
  }
end

function request()
  local prefix, d
  repeat
    prefix = CHILD_BASE + (offset + k * nthreads + tid) % CHILD_SPAN
    d = check_digit(prefix)
    k = k + 1
  until d
  local bsn = string.format("%08d%d", prefix, d)
  -- children aged roughly 6..17: exercises both informatieplicht branches (12+ and under 16)
  local birth = string.format("%d-%02d-%02d", 2009 + (k % 12), 1 + (k % 12), 1 + (k % 28))
  local kind = n % 6
  local parents = ""
  if kind ~= 0 and kind ~= 5 then
    local p1, p2 = parents_of(offset + math.floor(n / 3) * nthreads + tid)
    if kind == 1 then
      parents = string.format(',"parentBsns":["%s"]', p1)
    elseif kind == 4 then
      parents = string.format(',"parentBsns":["%s"]', p2)
    else
      parents = string.format(',"parentBsns":["%s","%s"]', p1, p2)
    end
  end
  local body = string.format(
    '{"bsn":"%s","birthDate":"%s"%s,'
      .. '"informatieplicht":{"childInformed":true,"parentsInformed":true}}',
    bsn, birth, parents)
  local h = headers[(n % 2) + 1]
  n = n + 1
  return wrk.format("POST", path, h, body)
end

function response(status, hdrs, body)
  report.count(status, body, 201)
end

done = report.done
