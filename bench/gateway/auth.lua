-- wrk script: every request carries the session JWT from VENTA_BENCH_TOKEN and reads a
-- vendor picked at random from VENTA_BENCH_IDS (one id per line; the target URL's own
-- id is replaced).
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("VENTA_BENCH_TOKEN")

local ids = {}
local prefix = wrk.path:match("^(.*/)")
for id in io.lines(os.getenv("VENTA_BENCH_IDS")) do
  ids[#ids + 1] = id
end

-- Each wrk thread has its own Lua state: seed each differently.
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

-- One vendor: wrk's static request, no Lua call per request (which costs wrk CPU that
-- the servers on the same cores would otherwise have).
if #ids > 1 then
  request = function()
    return wrk.format(nil, prefix .. ids[math.random(#ids)])
  end
end
