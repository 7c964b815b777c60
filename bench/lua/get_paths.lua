-- wrk script: GET a fixed list of paths round-robin (match lookups), expecting 200.
--
-- Usage: wrk -t T -c C -d D -s get_paths.lua URL -- PATHS_FILE
-- PATHS_FILE holds one request path per line (e.g. /api/v1/matches/<uuid>); each thread starts
-- at its own position so the threads do not hit the same row in lock-step. The bearer token comes
-- from BENCH_TOKEN_A (the professional who takes part in those matches).

local script_dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
package.path = script_dir .. "?.lua;" .. package.path
local report = require("report")

function setup(thread)
  report.setup(thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  assert(#paths > 0, "no paths in " .. tostring(args[1]))
  k = 0
  pos = (tid * 7919) % #paths
  headers = { ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN_A") or "none") }
end

function request()
  pos = pos % #paths + 1
  k = k + 1
  return wrk.format("GET", paths[pos], headers)
end

function response(status, hdrs, body)
  report.count(status, body, 200)
end

done = report.done
