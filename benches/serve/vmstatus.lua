-- wrk script: GET /spider/vmstatus/{Name}?ConnectionName=... over the VMs bench.sh created
-- (vm-<c>-<i> on connection conn-<c>), chosen at random per request.
local clouds = tonumber(os.getenv("CLOUDS") or "100")
local per = tonumber(os.getenv("PER_CLOUD") or "100")
math.randomseed(7)
request = function()
  local c = math.random(1, clouds)
  local i = math.random(1, per)
  return wrk.format("GET", string.format("/spider/vmstatus/vm-%d-%d?ConnectionName=conn-%d", c, i, c))
end
