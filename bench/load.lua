-- wrk script for the absolute-form loads. Environment:
--   BENCH_PATH        what goes on the request line: an absolute URL through oauth-injector, a
--                     path for the origin and the reverse proxies
--   BENCH_HOST        the Host header
--   BENCH_USERS       identity headers rotate over user-0 .. user-(N-1); 0: none are sent
--   BENCH_BODY_BYTES  0: GET; else a POST with a JSON body of about that size that carries the
--                     placeholder
-- Every request carries `Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}`.
local path = os.getenv("BENCH_PATH")
local host = os.getenv("BENCH_HOST")
local plugin = os.getenv("BENCH_PLUGIN") or "bench-plugin"
local users = tonumber(os.getenv("BENCH_USERS") or "0")
local body_bytes = tonumber(os.getenv("BENCH_BODY_BYTES") or "0")
local placeholder = "{OAUTH_PLUGIN_ACCESS_TOKEN}"

local requests = {}
local next_request = 1
local threads_set_up = 0

-- Runs in the main Lua state: gives each thread a different first user.
function setup(thread)
    thread:set("first_user", threads_set_up * 4099)
    threads_set_up = threads_set_up + 1
end

-- A JSON document of about `size` bytes: the placeholder near the start, then filler items.
local function json_body(size)
    local head = '{"token":"' .. placeholder .. '","items":['
    local item = '{"id":12345,"name":"benchmark item","tags":["a","b","c"]},'
    local parts = { head }
    local length = #head
    while length + #item + 2 < size do
        parts[#parts + 1] = item
        length = length + #item
    end
    parts[#parts + 1] = '{"id":0}]}'
    return table.concat(parts)
end

local function make_request(user)
    local headers = { ["Host"] = host, ["Authorization"] = "Bearer " .. placeholder }
    if user then
        headers["X-Plugin-User"] = "user-" .. user
        headers["X-Plugin-Id"] = plugin
    end
    if body_bytes > 0 then
        headers["Content-Type"] = "application/json"
        return wrk.format("POST", path, headers, json_body(body_bytes))
    end
    return wrk.format("GET", path, headers)
end

function init(args)
    if users == 0 then
        requests[1] = make_request(nil)
    else
        for i = 1, users do
            requests[i] = make_request(i - 1)
        end
    end
    next_request = (first_user or 0) % #requests + 1
end

function request()
    local r = requests[next_request]
    next_request = next_request % #requests + 1
    return r
end
