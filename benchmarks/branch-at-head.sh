#!/usr/bin/env bash
# A branch at the head of a busy compute (issue 9, benchmarks/README.md 9k): starts a server with
# -Dforkline.ingest.background=BACKGROUND, loads pgbench scale 20 into main, runs TPC-B with 16 clients
# for 45 s and times `forkline branch create` at the head about 10, 25 and 40 s in.
#   benchmarks/branch-at-head.sh true|false [PORT]     (run from anywhere; uses ./forkline of this checkout)
# EXTRA_JAVA_OPTS adds server options (e.g. -Dforkline.ingest.background.cpuGroups=false).
set -euo pipefail
bg="${1:?usage: branch-at-head.sh true|false [PORT]}"
port="${2:-9911}"
case "$bg" in true|false) ;; *) echo "branch-at-head.sh: '$bg' is not true or false" >&2; exit 2 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pgbench=/usr/lib/postgresql/15/bin/pgbench
export FORKLINE_URL="http://127.0.0.1:$port"
dir="$(mktemp -d /tmp/forkline-branch-at-head.XXXXXX)"
FORKLINE_JAVA_OPTS="-Dforkline.ingest.background=$bg ${EXTRA_JAVA_OPTS:-}" "$root/forkline" server --data-dir "$dir/data" --port "$port" \
  --page-port $((port + 1)) --pg-port $((port + 2)) > "$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do curl -sf "$FORKLINE_URL/v1/status" > /dev/null && break; sleep 0.5; done
"$root/forkline" tenant create t > /dev/null
uri="$("$root/forkline" endpoint start main --tenant t)"
"$pgbench" -i -s 20 -q "$uri" > /dev/null 2>&1
"$pgbench" -c 16 -j 2 -T 45 "$uri" > "$dir/pgbench.out" 2>&1 &
bench=$!
for k in 1 2 3; do
  sleep 10
  t0=$(date +%s%N)
  "$root/forkline" branch create "b$k" --tenant t > /dev/null
  t1=$(date +%s%N)
  printf 'background=%s %s: branch b%d at the head during pgbench: %.2f s\n' "$bg" "${EXTRA_JAVA_OPTS:-}" "$k" "$(( (t1 - t0) / 1000000 ))e-3"
done
wait $bench
grep '^tps' "$dir/pgbench.out" | head -1
