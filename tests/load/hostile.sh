#!/usr/bin/env bash
# The hostile objects (tests/EgressWebhook.Benchmarks/Hostile.cs) sent to the real server over HTTPS, as the API server
# would send them: the server in Release with its own runtime settings (Server GC, audit log on), on a generated
# cluster state, each review POSTed REPEAT times to /validate?timeout=10s. Prints per case the median time from the
# request's first byte sent to the answer's last byte (upload of the body included; TLS handshake excluded), the answer, and the server's RSS.
#   tests/load/hostile.sh [OBJECTS=1000] [REPEAT=5] [half] [update]
set -euo pipefail
cd "$(dirname "$0")/../.."
objects="${1:-1000}"; repeat="${2:-5}"; shift $(( $# < 2 ? $# : 2 ))
out="tests/load/out/hostile"; rm -rf "$out"; mkdir -p "$out"
port=18543; health=18180

for p in src/EgressWebhook.Server tests/EgressWebhook.Benchmarks; do dotnet build -c Release "$p" -m:1 -v q >/dev/null; done
bench=tests/EgressWebhook.Benchmarks/bin/Release/net10.0/EgressWebhook.Benchmarks.dll
dotnet "$bench" generate-state "$out/state" "$objects"
dotnet "$bench" hostile-reviews "$out/reviews" "$@"

dotnet src/EgressWebhook.Server/bin/Release/net10.0/EgressWebhook.Server.dll \
  --state "$out/state" --urls "https://127.0.0.1:$port" --Webhook:HealthPort=$health \
  --Webhook:AuditLog="$out/audit.log" --Logging:LogLevel:Default=Warning >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && break
  sleep 0.05
done

printf '%-36s %8s %8s  %s\n' case median max answer
while IFS=$'\t' read -r file name; do
  times=()
  for _ in $(seq 1 "$repeat"); do
    t=$(curl -sk -o "$out/answer.json" -H 'Content-Type: application/json' --data-binary "@$out/reviews/$file" \
      -w '%{time_pretransfer} %{time_total} %{http_code}' "https://127.0.0.1:$port/validate?timeout=10s")
    read -r pre total code <<<"$t"
    times+=("$(awk -v a="$pre" -v b="$total" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
  done
  answer="http $code, $(grep -o '"allowed":[a-z]*' "$out/answer.json" | head -1 || true)$(grep -o ',"code":[0-9]*' "$out/answer.json" | head -1 || true)"
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '%-36s %6s ms %6s ms  %s\n' "$name" "$(sed -n "$(( (repeat + 1) / 2 ))p" <<<"$sorted")" "$(tail -1 <<<"$sorted")" "$answer"
done <"$out/reviews/cases.tsv"
echo "server RSS after the cases: $(( $(ps -o rss= -p $pid) / 1024 )) MiB"
