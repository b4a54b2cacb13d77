#!/usr/bin/env bash
# Wake on connect through the Postgres proxy (issue 8): a branch's compute suspended by its
# suspend_after, then `psql "<connection string>" -c <query>` timed from the shell until the answer
# (proxy auth + wake = a compute start + the query), RUNS times; beside it, in the same run, the
# same psql against the running compute (connect + query through the proxy: the floor).
#   benchmarks/wake-latency.sh [--scale 10] [--runs 20]
# Starts a server of its own (ephemeral ports, data under benchmarks/target/bench/wake-*, deleted at
# the end), loads pgbench -i -s SCALE on main, sets `endpoint config main --suspend-after 1s`.
# Prints RESULT lines with p50 and p99 (nearest rank) in milliseconds and the load average; keeps
# WORK/server.log and WORK/wakes.txt (per wake: run, psql start and end UTC, ms) to line the server's
# phase log lines (FORKLINE_JAVA_OPTS=-Dforkline.log.level=INFO) up with the client's view.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
scale=10 runs=20
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "wake-latency: unknown argument '$1' (expected --scale N, --runs N)" >&2; exit 2 ;;
  esac
done
fl="$root/forkline"
work="$root/benchmarks/target/bench/wake-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$work"
# shellcheck source=bench-server.sh
. "$here/bench-server.sh"
start_bench_server "$work"
url="$FORKLINE_URL"
"$fl" tenant create wake >/dev/null
cs=$("$fl" endpoint start main --tenant wake)
/usr/lib/postgresql/15/bin/pgbench -i -q -s "$scale" "$cs" > "$work/pgbench.log" 2>&1
"$fl" endpoint config main --tenant wake --suspend-after 1s >/dev/null
state() {
  curl -sf -H "Authorization: Bearer $FORKLINE_TOKEN" "$url/v1/tenants/wake/branches" \
    | grep -o '"state" *: *"[a-z]*"' | head -n1 || true
}
ms() { echo $(( ($2 - $1) / 1000000 )); }
wakes=() floor=()
q="select count(*) from pgbench_branches"
for i in $(seq "$runs"); do
  for _ in $(seq 150); do state | grep -q suspended && break; sleep 0.2; done
  state | grep -q suspended || { echo "wake-latency: main did not suspend (run $i); see $work/server.log" >&2; exit 1; }
  s=$(date +%s%N); psql "$cs" -Atc "$q" >/dev/null; e=$(date +%s%N); wakes+=("$(ms "$s" "$e")")
  echo "$i $(date -u -d "@${s:0:10}.${s:10:3}" +%H:%M:%S.%3N) $(date -u -d "@${e:0:10}.${e:10:3}" +%H:%M:%S.%3N) $(ms "$s" "$e")" >> "$work/wakes.txt"
  s=$(date +%s%N); psql "$cs" -Atc "$q" >/dev/null; e=$(date +%s%N); floor+=("$(ms "$s" "$e")")
done
pct() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {r50=int((NR*50+99)/100); r99=int((NR*99+99)/100); printf "p50 %d ms  p99 %d ms  (n=%d)", a[r50], a[r99], NR}'; }
echo "RESULT wake-latency scale $scale: suspended -> first query answered: $(pct "${wakes[@]}")"
echo "RESULT wake-latency scale $scale: running -> connect + query through the proxy (floor): $(pct "${floor[@]}")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
