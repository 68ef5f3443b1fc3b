-- wrk script: send raw HTTP requests prepared (and signed) in advance, each once.
--
--   wrk -t1 -c32 -d10s -s bench/wrk_pool.lua http://127.0.0.1:PORT -- POOL_FILE READY_FILE
--
-- POOL_FILE holds records "<byte length>\n<raw HTTP/1.1 request>"; wrk's LuaJIT has no HMAC, so
-- bench/bench_devices.py signs every device request (unique nonce and punch id) before the
-- window starts. A pool of one record (the hello baseline) is simply sent again and again.
-- READY_FILE gets a line once the pool is loaded, so the caller can read this process's CPU
-- time at the start of the measured part (loading the pool is not counted as load-generator
-- cost per request). done() prints one JSON line starting with "WRKJSON ".

-- Globals (not locals): done() reads ``wrapped`` from each thread with thread:get().
pool = {}
count = 0
cursor = 0
wrapped = 0

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  local size = #data
  while pos <= size do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    count = count + 1
    pool[count] = data:sub(nl + 1, nl + len)
    pos = nl + 1 + len
  end
  if args[2] then
    local r = assert(io.open(args[2], "a"))
    r:write("ready\n")
    r:close()
  end
end

function request()
  cursor = cursor + 1
  if cursor > count then
    cursor = 1
    if count > 1 then
      wrapped = wrapped + 1 -- signed requests sent twice: their nonces are refused (counted)
    end
  end
  return pool[cursor]
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local wraps = 0
  for _, t in ipairs(threads) do
    wraps = wraps + (t:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,'
      .. '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"mean_us":%.1f,"pool_wrapped":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, wraps))
end
