#!/usr/bin/env bash
# The Postgres proxy's system calls, context switches and CPU per pgbench -S transaction (benchmarks/README.md 13c).
#   benchmarks/proxy-syscalls.sh [THREADS] [java options...]
# Runs ProxyComparison (targets tcp and proxy, one round of 16 s; THREADS = the proxy's event loop threads,
# 0 = its default) and, during the proxied run, `perf stat` on the benchmark JVM (which holds the proxy; pgbench
# and PostgreSQL are other processes) for 10 s. Needs perf with the syscalls tracepoints and
# benchmarks/target/benchmarks.jar (benchmarks/run.sh builds it).
# Example: benchmarks/proxy-syscalls.sh 0 -Dforkline.transport=nio
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
threads="${1:-0}"
[ $# -gt 0 ] && shift
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
jar="$here/target/benchmarks.jar"
[ -f "$jar" ] || { echo "proxy-syscalls.sh: $jar missing: run benchmarks/run.sh proxy once" >&2; exit 1; }
command -v perf >/dev/null || { echo "proxy-syscalls.sh: perf not found" >&2; exit 1; }
out=$(mktemp /tmp/proxy-syscalls.XXXXXX)
trap 'rm -f "$out" "$out.perf"' EXIT
"$java" --enable-native-access=ALL-UNNAMED -Xmx2g "$@" -cp "$jar" io.forkline.compute.proxy.ProxyComparison \
  --scale 10 --clients 4 --seconds 16 --rounds 1 --targets tcp,proxy --threads "$threads" > "$out" 2>/dev/null &
jpid=$!
for _ in $(seq 1 600); do grep -q "round 1 tcp" "$out" && break; kill -0 $jpid 2>/dev/null || break; sleep 0.5; done
sleep 2 # into the proxied run
perf stat -x, -e 'syscalls:sys_enter_epoll_pwait2,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,context-switches,task-clock' \
  -p $jpid -o "$out.perf" -- sleep 10
wait $jpid
grep '^round 1' "$out"
# one transaction = one query and one answer relayed: two sendto/writev (epoll) or write (NIO) calls
awk -F, '$1 ~ /^[0-9.]+$/ {v[$3]=$1} END {
  msgs = v["syscalls:sys_enter_sendto"] + v["syscalls:sys_enter_writev"] + v["syscalls:sys_enter_write"]
  if (msgs == 0) { print "no relayed messages counted"; exit }
  for (k in v) if (k != "task-clock") printf "  %-40s %6.2f per transaction\n", k, v[k] * 2 / msgs
  printf "  %-40s %6.1f us per transaction\n", "task-clock (proxy JVM CPU)", v["task-clock"] * 1000 * 2 / msgs
}' "$out.perf" | sort
echo "  load average $(cut -d' ' -f1-3 /proc/loadavg)"
