-- POST /api/auth/refresh, each request with a refresh token never used before.
-- wrk ... -s refresh.lua URL -- PATH FIRST COUNT NTHREADS
-- Tokens are "bench-" .. %08d of FIRST .. FIRST+COUNT-1 (pre-seeded by bench/run); thread t of T
-- takes FIRST+t, FIRST+t+T, ... Past COUNT it wraps (those answers are 401 and are counted).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require("common")

function init(args)
   path = args[1]
   first = tonumber(args[2])
   count = tonumber(args[3])
   step = tonumber(args[4])
   i = tid
end

function request()
   local token = string.format("bench-%08d", first + (i % count))
   i = i + step
   return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
      '{"refresh_token":"' .. token .. '"}')
end
