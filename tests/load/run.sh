#!/usr/bin/env bash
# Load test: the server in Release on a generated cluster state, /validate against the decode-only floor
# (/floor) of the same build, over HTTPS keep-alive with wrk. Loopback only; bounded in time.
#   tests/load/run.sh [OBJECTS=10000] [CONNECTIONS=32] [DURATION=20s]
set -euo pipefail
cd "$(dirname "$0")/../.."
objects="${1:-10000}"; connections="${2:-32}"; duration="${3:-20s}"
out="tests/load/out"; mkdir -p "$out"
port=18443; health=18080

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

for p in src/EgressWebhook.Server tests/EgressWebhook.Benchmarks; do dotnet build -c Release "$p" >/dev/null; done
bench=tests/EgressWebhook.Benchmarks/bin/Release/net10.0/EgressWebhook.Benchmarks.dll
rm -rf "$out/state"; dotnet "$bench" generate-state "$out/state" "$objects"
dotnet "$bench" reviews "$out/bodies.txt" "$objects"

start=$(date +%s%N)
dotnet src/EgressWebhook.Server/bin/Release/net10.0/EgressWebhook.Server.dll \
  --state "$out/state" --urls "https://127.0.0.1:$port" \
  --Webhook:HealthPort=$health --Webhook:EnableFloorEndpoint=true --Webhook:AuditLog=off \
  --Logging:LogLevel:Default=Warning >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && break
  sleep 0.05
done
ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))

run() { # endpoint -> "rps p50 p99"
  BODIES="$out/bodies.txt" wrk -t2 -c"$connections" -d"$duration" --latency -s tests/load/post.lua \
    "https://127.0.0.1:$port/$1" >"$out/wrk-$1.txt"
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$out/wrk-$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$out/wrk-$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$out/wrk-$1.txt")
  echo "$rps $p50 $p99"
}

# warm-up, then the floor and /validate back to back in the same run
BODIES="$out/bodies.txt" wrk -t2 -c"$connections" -d5s -s tests/load/post.lua "https://127.0.0.1:$port/validate" >/dev/null
read -r floor_rps floor_p50 floor_p99 < <(run floor)
read -r val_rps val_p50 val_p99 < <(run validate)
rss_mb=$(( $(ps -o rss= -p $pid) / 1024 ))
grep -h "^errors:" "$out"/wrk-*.txt

ratio=$(awk -v a="$val_rps" -v b="$floor_rps" 'BEGIN { printf "%.2f", a / b }')
cat <<REPORT | tee "$out/report.txt"
objects=$objects connections=$connections duration=$duration cores=$(nproc)
start-to-ready: ${ready_ms} ms   server RSS after load: ${rss_mb} MiB
endpoint   req/s      p50       p99
floor      $floor_rps   $floor_p50   $floor_p99
validate   $val_rps   $val_p50   $val_p99
throughput ratio validate/floor: $ratio
REPORT
