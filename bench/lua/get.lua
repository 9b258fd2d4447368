-- A plain request (method from wrk -s args: GET unless given), counting statuses.
-- wrk ... -H 'Authorization: Bearer ...' -s get.lua URL [-- METHOD]
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require("common")

function init(args)
   if args[1] then wrk.method = args[1] end
end
