-- Posts real AdmissionReview bodies (one JSON per line of $BODIES) in turn over keep-alive connections.
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  bodies[#bodies + 1] = line
end
local i = 0
local headers = { ["Content-Type"] = "application/json" }

request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[i])
end

-- Non-2xx answers would mean the server failed a request: make them visible in the summary.
done = function(summary, latency, requests)
  io.write(string.format("errors: connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
