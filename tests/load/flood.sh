#!/usr/bin/env bash
# Slow-connection flood against the built server (Debug build, default limits), loopback only, bounded in time.
# One curl process posts examples/admission/allowed.json 40 times a second over one keep-alive connection (like the
# API server's) for 2 s, then for SECONDS while tests/load/slow-flood.py holds ATTACKERS slow-header TLS connections,
# then 1 s more. Prints the server's RSS, the latency of those reviews before and during the flood, and what a
# client that opens a new connection during the flood gets.  tests/load/flood.sh [ATTACKERS=2000] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
attackers="${1:-2000}"; seconds="${2:-10}"; port=18643; out="tests/load/out"; rate=40; mkdir -p "$out"
dotnet build src/EgressWebhook.Server >/dev/null
dotnet src/EgressWebhook.Server/bin/Debug/net10.0/EgressWebhook.Server.dll --state examples/state \
  --urls "https://127.0.0.1:$port" --Webhook:HealthPort=0 --Webhook:AuditLog=off --Webhook:ShutdownDelaySeconds=0 \
  >"$out/flood-server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do curl -sk -o /dev/null "https://127.0.0.1:$port/healthz" && break; sleep 0.1; done

reviews() { # count -> "code seconds" per review, in order
  local urls; urls=$(for _ in $(seq 1 "$1"); do printf "https://127.0.0.1:%s/validate " "$port"; done)
  # shellcheck disable=SC2086
  { curl -sk --rate "$rate/s" -w '\n%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
    --data @examples/admission/allowed.json $urls || true; } | awk 'NF==2 && $1 ~ /^[0-9][0-9][0-9]$/'
}
summary() { # label < "code seconds" lines
  sort -k2 -n | awk -v l="$1" '{c[$1]++; a[NR]=$2} END {printf "%s: %d reviews, %d answered 200, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    l, NR, c["200"], a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}'
}
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status"; }

echo "RSS before: $(rss)"
reviews $(( (3 + seconds) * rate )) >"$out/flood-reviews.txt" &
normal=$!
sleep 2
python3 tests/load/slow-flood.py "$port" "$attackers" "$seconds" >"$out/flood.json" &
flood=$!
sleep "$(( seconds / 2 ))"
echo "RSS in the flood: $(rss)"
reviews 20 | summary "a new connection in the flood"
wait $flood
echo "RSS at the end of the flood: $(rss)"
wait $normal
# by position: review i is sent at about i/rate s; the first is the connection set-up
sed -n "2,$(( 2 * rate - 10 ))p" "$out/flood-reviews.txt" | summary "keep-alive, before the flood"
sed -n "$(( 3 * rate )),$(( (1 + seconds) * rate ))p" "$out/flood-reviews.txt" | summary "keep-alive, during the flood"
echo "attackers ($attackers for $seconds s): $(cat "$out/flood.json")"
