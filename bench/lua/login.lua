-- POST a JSON login, rotating over the seeded users.
-- wrk ... -s login.lua URL -- PATH NUSERS PASSWORD NTHREADS [PREFIX]
-- Users are PREFIX000001 .. PREFIX<NUSERS> (PREFIX defaults to "bench"); thread t of T logs in
-- as users t+1, t+1+T, ... so the threads never collide.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require("common")

function init(args)
   path = args[1]
   nusers = tonumber(args[2])
   password = args[3]
   step = tonumber(args[4])
   prefix = args[5] or "bench"
   i = tid
end

function request()
   local name = string.format("%s%06d", prefix, (i % nusers) + 1)
   i = i + step
   return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
      '{"username":"' .. name .. '","password":"' .. password .. '"}')
end
