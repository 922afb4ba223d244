#!/usr/bin/env bash
# The hostile objects (tests/EgressWebhook.Benchmarks/Hostile.cs) sent to the real server over HTTPS, as the API server
# would send them: the server in Release with its own runtime settings (Server GC, audit log on), on a generated
# cluster state, each review POSTed REPEAT times to /validate?timeout=10s. Prints per case the median time from the
# request's first byte sent to the answer's last byte (upload of the body included; TLS handshake excluded), after one
# untimed round, the answer, and the server's RSS.
# With burst: the 3 MiB cases that allocate most (routes, destinations, sniHosts, VS hosts, DR identical subsets,
# SE endpoints), four of each, all sent at once, under the heap limit .NET takes in a 384 Mi pod (75%: 288 MiB);
# prints the answers' HTTP codes and reasons, RSS, and whether any OutOfMemoryException was logged.
#   tests/load/hostile.sh [OBJECTS=1000] [REPEAT=5] [half] [update] [burst]
set -euo pipefail
cd "$(dirname "$0")/../.."
objects="${1:-1000}"; repeat="${2:-5}"; shift $(( $# < 2 ? $# : 2 ))
burst=""; args=()
for a in "$@"; do if [ "$a" = burst ]; then burst=1; else args+=("$a"); fi; done
[ -n "$burst" ] && export DOTNET_GCHeapHardLimit=0x12000000
out="tests/load/out/hostile"; rm -rf "$out"; mkdir -p "$out"
port=18543; health=18180

for p in src/EgressWebhook.Server tests/EgressWebhook.Benchmarks; do dotnet build -c Release "$p" -m:1 -v q >/dev/null; done
bench=tests/EgressWebhook.Benchmarks/bin/Release/net10.0/EgressWebhook.Benchmarks.dll
dotnet "$bench" generate-state "$out/state" "$objects"
dotnet "$bench" hostile-reviews "$out/reviews" "${args[@]}"

dotnet src/EgressWebhook.Server/bin/Release/net10.0/EgressWebhook.Server.dll \
  --state "$out/state" --urls "https://127.0.0.1:$port" --Webhook:HealthPort=$health \
  --Webhook:AuditLog="$out/audit.log" --Logging:LogLevel:Default=Warning >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && break
  sleep 0.05
done

if [ -n "$burst" ]; then
  pids=()
  for name in "vs http routes" "vs http destinations" "vs tls sniHosts" "vs hosts" "dr identical subsets" "se endpoints"; do
    file=$(awk -F'\t' -v n="$name 3 MiB" '$2 == n { print $1 }' "$out/reviews/cases.tsv")
    for k in 1 2 3 4; do
      curl -sk -o "$out/burst-$file-$k.txt" -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data-binary "@$out/reviews/$file" "https://127.0.0.1:$port/validate?timeout=10s" >>"$out/burst-codes.txt" & pids+=($!)
    done
  done
  wait "${pids[@]}"
  echo "HTTP codes:"; sort "$out/burst-codes.txt" | uniq -c
  echo "answers:"; for f in "$out"/burst-*-*.txt; do
    grep -o '"allowed":[a-z]*\|"code":[0-9]*\|"message":"[^"]\{0,110\}' "$f" | tr '\n' ' ' || head -c 80 "$f"; echo
  done | sed 's/[0-9]\{5,\} bytes/N bytes/' | sort | uniq -c
  echo "server RSS: $(( $(ps -o rss= -p $pid) / 1024 )) MiB; OutOfMemoryException logged: $(grep -c OutOfMemory "$out/server.log" || true)"
  exit 0
fi

# one untimed round first: the JIT compiles the decoders and rules of each kind at their first large inputs (tiered
# compilation: the first requests of a kind run unoptimised code, 2-3x slower)
while IFS=$'\t' read -r file name; do
  curl -sk -o /dev/null -H 'Content-Type: application/json' --data-binary "@$out/reviews/$file" "https://127.0.0.1:$port/validate?timeout=10s" || true
done <"$out/reviews/cases.tsv"

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
