-- Shared by the wrk scripts: per-thread status accounting and one parseable result line.
--
-- wrk runs one Lua state per thread plus the main one; setup() and done() run in the main state
-- and can read thread globals with thread:get(). So each thread keeps its own counters in globals
-- and done() adds them up and prints a single line "BENCH_RESULT {json}" that bench/wrk.py parses.

local M = {}
local threads = {}

function M.setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Called from response(): count every status, and keep the first unexpected one for diagnosis
-- (a benchmark of errors is worthless, so the orchestrator refuses to call such a run a result).
function M.count(status, body, expected)
  statuses = statuses or {}
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= expected then
    unexpected = (unexpected or 0) + 1
    if not first_unexpected then
      first_unexpected = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function M.done(summary, latency, requests)
  local unexpected_total, counter_max = 0, 0
  local merged, first = {}, nil
  for _, t in ipairs(threads) do
    unexpected_total = unexpected_total + (t:get("unexpected") or 0)
    counter_max = math.max(counter_max, t:get("k") or 0)
    first = first or t:get("first_unexpected")
    local st = t:get("statuses") or {}
    for code, n in pairs(st) do
      merged[code] = (merged[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', code, n))
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.2f,"bytes":%d,'
      .. '"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d},'
      .. '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"wrk_status_errors":%d,"unexpected_status":%d,"status_counts":{%s},'
      .. '"counter_max":%d,"first_unexpected":%s}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout,
    e.status, unexpected_total, table.concat(parts, ","),
    counter_max, first and json_string(first) or "null"))
end

return M
