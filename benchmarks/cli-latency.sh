#!/usr/bin/env bash
# CLI and admin API latency, end to end from the shell, beside its floors (benchmarks/README.md, section 8).
#   benchmarks/run.sh cli [--runs N] [--scale S] [--peer DIR] [--warmup W]
#     (default 50 rounds; S > 0: pgbench -i -s S on main first; DIR: another built checkout, e.g. the
#     previous commit's, whose ./forkline runs the same three CLI commands in the same rounds, as "peer:";
#     W (default 200): untimed API rounds first (list, create, delete, config through curl), so the
#     API rows show a server whose JIT has compiled the handlers, as a server that has run a while
#     has; W = 0 measures the freshly started server, whose first calls run interpreted)
# Starts a server of its own (ephemeral ports, data under benchmarks/target/bench/cli-*, deleted at
# the end) with tenant "bench" and main's endpoint running, then, N rounds, in turn:
#   floor  java -version                 (the JDK the launcher runs the CLI on)
#   floor  psql -c 'select 1'            (against main's compute)
#   cli    ./forkline branch list --tenant bench --json
#   cli    ./forkline branch create bN --tenant bench
#   cli    ./forkline branch delete bN --tenant bench
#   api    curl GET/POST/DELETE of the same calls, and GET /v1/tenants/bench/config (curl's time_total)
#   floor  curl GET /v1/status           (public: no token, no work; the HTTP round trip itself)
#   floor  fdatasync                     (dd of 4 KiB with oflag=dsync over a block of a file in the
#                                         server's work directory, dd's own time: one durable write
#                                         on this disk, what a durable create/delete cannot go below)
# and prints p50 and p99 (nearest rank) of each in milliseconds, with each p50 over the p50 of the
# floors of the same run (java -version, psql; GET /v1/status for the API calls) and the load
# average. Wall times of whole processes are taken with bash's $EPOCHREALTIME around them; "~cpu"
# rows are the same processes' CPU time (user + sys, 10 ms ticks), which a busy machine inflates
# much less than wall time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
runs=50
scale=0
peer=""
warmup=200
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --peer) peer="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "usage: benchmarks/run.sh cli [--runs N] [--scale S] [--peer DIR] [--warmup W]" >&2; exit 2 ;;
  esac
done
if [ -n "$peer" ] && [ ! -x "$peer/forkline" ]; then
  echo "cli-latency: --peer $peer has no ./forkline" >&2; exit 2
fi
psql=/usr/lib/postgresql/15/bin/psql
command -v curl >/dev/null || { echo "cli-latency: curl is missing" >&2; exit 1; }
[ -x "$psql" ] || { echo "cli-latency: $psql is missing (postgresql-client-15)" >&2; exit 1; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
work="$here/target/bench/cli-$stamp"
out="$here/target/bench/results"
mkdir -p "$work" "$out"
samples="$work/samples.txt"
: > "$samples"

fl="$root/forkline"
# build (if needed) and warm: the first client run after a build records the AOT cache in the
# background (JDK 25+); wait for it, as a user's later commands would find it
"$fl" --version >/dev/null
read -r _ jdk < <(sed -n 2p "$root/.forkline/cache/jdk")
java="$jdk/bin/java"
for _ in $(seq 120); do
  [ -e "$root/.forkline/cache/client.aot.lock" ] || break
  sleep 1
done
if [ -n "$peer" ]; then
  "$peer/forkline" --version >/dev/null
  for _ in $(seq 120); do
    [ -e "$peer/.forkline/cache/client.aot.lock" ] || break
    sleep 1
  done
fi

# shellcheck source=bench-server.sh
. "$here/bench-server.sh"
start_bench_server "$work"
url="$FORKLINE_URL"
auth="Authorization: Bearer $FORKLINE_TOKEN"
"$fl" tenant create bench >/dev/null
uri=$("$fl" endpoint start main --tenant bench)
if [ "$scale" -gt 0 ]; then # a loaded database: sizes and deletes then have real work behind them
  /usr/lib/postgresql/15/bin/pgbench -i -q -s "$scale" "$uri" > "$work/pgbench.log" 2>&1
fi

# CPU time (user + sys, milliseconds) of all waited-for children so far -> $cpu (bash's `times`,
# clock-tick resolution: 10 ms)
children_cpu() {
  local shell_line child_line u s
  times > "$work/times"
  { read -r shell_line; read -r child_line; } < "$work/times"
  [[ $child_line =~ ^([0-9]+)m([0-9.]+)s\ ([0-9]+)m([0-9.]+)s$ ]] || { cpu=0; return; }
  u=$(( BASH_REMATCH[1] * 60000 + 10#${BASH_REMATCH[2]/./} ))
  s=$(( BASH_REMATCH[3] * 60000 + 10#${BASH_REMATCH[4]/./} ))
  cpu=$(( u + s ))
}
# one sample: label, then the command; wall time in microseconds, and its CPU time as label~cpu
timed() {
  local label=$1; shift
  local before
  children_cpu; before=$cpu
  local s=$EPOCHREALTIME
  "$@" >/dev/null 2>>"$work/errors.log" || { echo "cli-latency: $label failed: $*" >&2; exit 1; }
  local e=$EPOCHREALTIME
  children_cpu
  echo "$label $(( ${e/./} - ${s/./} ))" >> "$samples"
  echo "$label~cpu $(( (cpu - before) * 1000 ))" >> "$samples"
}
# dd's own time of one 4 KiB O_DSYNC overwrite of a block of a file on the server's disk, microseconds
dd_file="$work/fdatasync.probe"
dd if=/dev/zero of="$dd_file" bs=4096 count=1 2>/dev/null
fdatasync_probe() {
  local t
  t=$(dd if=/dev/zero of="$dd_file" bs=4096 count=1 oflag=dsync conv=notrunc 2>&1 | sed -n 's/.* copied, \([0-9.e-]*\) s,.*/\1/p')
  echo "floor:fdatasync $(awk -v t="$t" 'BEGIN{printf "%d", t * 1000000}')" >> "$samples"
}
# curl's own time_total of one request, microseconds
api() {
  local label=$1; shift
  local t
  t=$(curl -sS -o /dev/null -w '%{time_total}' -H "$auth" --fail-with-body "$@") \
    || { echo "cli-latency: $label failed: $*" >&2; exit 1; }
  echo "$label $(awk -v t="$t" 'BEGIN{printf "%d", t * 1000000}')" >> "$samples"
}

# untimed warm-up of the API handlers (their branch names never collide with the timed rounds')
for i in $(seq "$warmup"); do
  curl -sS -o /dev/null -H "$auth" --fail-with-body "$url/v1/tenants/bench/branches"
  curl -sS -o /dev/null -H "$auth" --fail-with-body -X POST -H 'Content-Type: application/json' \
    -d "{\"ref\":\"w$i\"}" "$url/v1/tenants/bench/branches"
  curl -sS -o /dev/null -H "$auth" --fail-with-body -X DELETE "$url/v1/tenants/bench/branches/w$i"
  curl -sS -o /dev/null -H "$auth" --fail-with-body "$url/v1/tenants/bench/config"
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== CLI and admin API latency: $runs rounds against $url (JDK $jdk, pgbench scale $scale on main; $warmup untimed API warm-up rounds; load average $load_start) =="
for i in $(seq "$runs"); do
  timed "floor:java-version" "$java" -version
  timed "floor:psql-select-1" "$psql" -X -q -t -c 'select 1' "$uri"
  timed "cli:branch-list-json" "$fl" branch list --tenant bench --json
  timed "cli:branch-create" "$fl" branch create "b$i" --tenant bench
  timed "cli:branch-delete" "$fl" branch delete "b$i" --tenant bench
  if [ -n "$peer" ]; then
    timed "peer:branch-list-json" "$peer/forkline" branch list --tenant bench --json
    timed "peer:branch-create" "$peer/forkline" branch create "p$i" --tenant bench
    timed "peer:branch-delete" "$peer/forkline" branch delete "p$i" --tenant bench
  fi
  api "api:GET-branches" "$url/v1/tenants/bench/branches"
  api "api:POST-branch" -X POST -H 'Content-Type: application/json' -d "{\"ref\":\"c$i\"}" "$url/v1/tenants/bench/branches"
  api "api:DELETE-branch" -X DELETE "$url/v1/tenants/bench/branches/c$i"
  api "api:GET-config" "$url/v1/tenants/bench/config"
  api "floor:GET-status" "$url/v1/status"
  fdatasync_probe
done
"$fl" endpoint stop main --tenant bench >/dev/null

p50_of() { # label -> p50 in microseconds
  grep "^$1 " "$samples" | awk '{print $2}' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
{
  echo "RESULT cli-latency $stamp runs=$runs scale=$scale warmup=$warmup${peer:+ peer=$peer} (milliseconds; p99 = nearest rank;" \
    "x java / x psql / x status: p50 over the p50 of that floor in this run)"
  printf '%-28s %8s %8s %8s %8s %8s %8s\n' what p50 p99 max "x java" "x psql" "x status"
  java_p50=$(p50_of floor:java-version) psql_p50=$(p50_of floor:psql-select-1) status_p50=$(p50_of floor:GET-status)
  java_cpu=$(p50_of floor:java-version~cpu) psql_cpu=$(p50_of floor:psql-select-1~cpu)
  labels=(floor:java-version floor:psql-select-1 cli:branch-list-json cli:branch-create cli:branch-delete)
  [ -n "$peer" ] && labels+=(peer:branch-list-json peer:branch-create peer:branch-delete)
  labels+=(floor:GET-status floor:fdatasync api:GET-branches api:POST-branch api:DELETE-branch api:GET-config
    floor:java-version~cpu floor:psql-select-1~cpu cli:branch-list-json~cpu cli:branch-create~cpu cli:branch-delete~cpu)
  [ -n "$peer" ] && labels+=(peer:branch-list-json~cpu peer:branch-create~cpu peer:branch-delete~cpu)
  for label in "${labels[@]}"; do
    case $label in
      *~cpu) jf=$java_cpu pf=$psql_cpu sf="" ;;
      api:*|floor:GET-status|floor:fdatasync) jf=$java_p50 pf=$psql_p50 sf=$status_p50 ;;
      *) jf=$java_p50 pf=$psql_p50 sf="" ;;
    esac
    grep "^$label " "$samples" | awk '{print $2}' | sort -n | awk -v l="$label" -v jf="$jf" -v pf="$pf" -v sf="$sf" '
      function ratio(f) { return (f == "" || f == 0) ? "-" : sprintf("%.2f", p50 / f) }
      { a[NR] = $1 }
      END { p50 = a[int((NR + 1) / 2)]; i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1;
            printf "%-28s %8.1f %8.1f %8.1f %8s %8s %8s\n", l, p50 / 1000, a[i] / 1000, a[NR] / 1000,
              ratio(jf), ratio(pf), ratio(sf) }'
  done
  echo "load average: at the start $load_start; at the end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/cli-$stamp.log"
cp "$samples" "$out/cli-$stamp.samples"
