-- wrk script for requests through oauth-injector: absolute-form targets, identity headers rotating
-- over BENCH_USERS users, and the placeholder the proxy replaces with each user's token.
local target = os.getenv("BENCH_TARGET")
local origin_host = os.getenv("BENCH_ORIGIN_HOST")
local plugin = os.getenv("BENCH_PLUGIN") or "bench-plugin"
local users = tonumber(os.getenv("BENCH_USERS") or "100")

local requests = {}
local next_request = 1
local threads_set_up = 0

-- Runs in the main Lua state: gives each thread a different first user.
function setup(thread)
    thread:set("first_user", threads_set_up * 37)
    threads_set_up = threads_set_up + 1
end

function init(args)
    for i = 1, users do
        requests[i] = wrk.format("GET", target, {
            ["Host"] = origin_host,
            ["X-Plugin-User"] = "user-" .. (i - 1),
            ["X-Plugin-Id"] = plugin,
            ["Authorization"] = "Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}",
        })
    end
    next_request = (first_user or 0) % users + 1
end

function request()
    local r = requests[next_request]
    next_request = next_request % users + 1
    return r
end
