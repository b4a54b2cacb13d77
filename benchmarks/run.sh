#!/usr/bin/env bash
# Builds the benchmarks module and runs the three Forkline benchmarks; prints each one's RESULT block.
#   benchmarks/run.sh                  all three: jmh, branch, ingest
#   benchmarks/run.sh jmh|branch|ingest|gc|cost|pagebench|cli|tpcb|lazy|import [more args passed to that benchmark]
#   benchmarks/run.sh branch [--scale 70] [--runs 3] [--full 1] [--templates wal_log,file_copy|none] [--keep 0] [--reuse DIR]
#   benchmarks/run.sh diff [--rows 1000000] [--runs 1] [--full 1] [--scans 1]   data diff of a ~1 GB table with 10 changed rows
#                                        beside pg_dump --data-only x2 + diff, after a seqscan of it on lazy (read-ahead off/on) and full computes (DiffMeasurement)
#   benchmarks/run.sh import [--scale 20] [--rounds 2] [--seconds 30] [--clients 4]   tenant import --from-primary
#                                        beside pg_basebackup of the same primary, and mirror lag under pgbench
#   benchmarks/run.sh proxy [--scale 10] [--clients 4] [--seconds 5] [--rounds 3] [--threads 0] [--also-threads 1,2] [--targets unix,tcp,proxy,proxy-kernel,proxy-kernel-tcp,proxy-kernel-unix,proxy-tls] [--netns 1]   pgbench -S through the
#                                        Postgres proxy beside the same compute's Unix socket and TCP port, and the proxy's CPU per transaction (ProxyComparison)
#   benchmarks/run.sh tpcb [--scale 10] [--clients 4] [--seconds 20] [--runs 2] [--images 0|1] [--storage lazy|full]
#                          [--threads 8] [--jfr FILE] [--second NAME=VALUE] [--io 1] [--settle 1] [--delete 1]   pgbench TPC-B: Forkline beside stock fsync=on and
#                                        stock + sync standby; server CPU per transaction by thread (TpcbComparison)
#   benchmarks/run.sh pagebench --json   last line: one JSON object (page service latency/throughput)
#   benchmarks/run.sh wake [--scale S] [--runs N]   wake on connect through the proxy (wake-latency.sh)
#   benchmarks/run.sh cli [--runs N] [--scale S] [--peer DIR]   CLI and admin API latency beside java -version and psql (cli-latency.sh;
#                                        builds through ./forkline, not part of "all")
# Environment: MVN_ARGS (default "-o": offline; the modules are built in the reactor, nothing is installed),
# SKIP_BUILD=1 to reuse benchmarks/target/benchmarks.jar.
# Logs and JMH JSON go to benchmarks/target/bench/results/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

if [ "${1:-}" = cli ]; then # a shell harness over the launcher: no benchmarks jar needed
  shift
  exec "$here/cli-latency.sh" "$@"
fi
if [ "${1:-}" = wake ]; then # likewise: wake on connect through the Postgres proxy (issue 8)
  shift
  exec "$here/wake-latency.sh" "$@"
fi

java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -n1; }
find_jdk() { # JAVA_HOME if it is 21+, else the newest JDK 21+ under /usr/lib/jvm
  local best="" bestv=0 v c
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ] && [ "$(java_major "$JAVA_HOME/bin/java")" -ge 21 ]; then
    echo "$JAVA_HOME"; return
  fi
  for c in /usr/lib/jvm/*; do
    [ -x "$c/bin/javac" ] || continue
    v=$(java_major "$c/bin/java"); [ -n "$v" ] || continue
    if [ "$v" -ge 21 ] && [ "$v" -gt "$bestv" ]; then best="$c"; bestv="$v"; fi
  done
  [ -n "$best" ] || { echo "run.sh: no JDK 21+ found" >&2; exit 1; }
  echo "$best"
}
export JAVA_HOME="$(find_jdk)"
java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx2g)
jar="$here/target/benchmarks.jar"
out="$here/target/bench/results"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  mvn -q -B ${MVN_ARGS:--o} -pl benchmarks -am package -DskipTests
fi
mkdir -p "$out"

what="${1:-all}"
[ $# -gt 0 ] && shift
stamp=$(date -u +%Y%m%dT%H%M%SZ)

run_jmh() {
  echo "== GetPageBenchmark (JMH, 3 runs; each run measures depth 0 then depth 1) =="
  for i in 1 2 3; do
    "$JAVA_HOME/bin/java" -jar "$jar" GetPageBenchmark -rf json -rff "$out/jmh-$stamp-$i.json" "$@" \
      > "$out/jmh-$stamp-$i.log" 2>&1
    grep -E '^GetPageBenchmark.getPage(Shared)? ' "$out/jmh-$stamp-$i.log" | sed "s/^/run $i: /"
    # columns: name depth pages versions mode cnt score ...; ratio = depth 1 / depth 0 of this run
    awk '/^GetPageBenchmark.getPage /{s[$2]=$7} END{if (s[0] > 0) printf "run %d: ratio depth1/depth0 = %.3f\n", '"$i"', s[1]/s[0]}' \
      "$out/jmh-$stamp-$i.log"
  done
}
run_branch() {
  echo "== BranchVsTemplateComparison =="
  "${java[@]}" -cp "$jar" io.forkline.pageserver.BranchVsTemplateComparison "$@" 2> "$out/branch-$stamp.err" \
    | tee "$out/branch-$stamp.log"
}
run_gc() {
  echo "== GcMeasurement =="
  "${java[@]}" -cp "$jar" io.forkline.pageserver.retention.GcMeasurement "$@" 2> "$out/gc-$stamp.err" \
    | tee "$out/gc-$stamp.log"
}
run_cost() {
  echo "== BranchCostMeasurement =="
  "${java[@]}" -cp "$jar" io.forkline.pageserver.size.BranchCostMeasurement "$@" 2> "$out/cost-$stamp.err" \
    | tee "$out/cost-$stamp.log"
}
run_pagebench() {
  echo "== PageBench (page service over loopback, with the echo and in-process floors) =="
  local json=0 a=()
  for x in "$@"; do if [ "$x" = "--json" ]; then json=1; else a+=("$x"); fi; done
  "${java[@]}" -cp "$jar" io.forkline.pageserver.pageservice.PageBench "${a[@]}" 2> "$out/pagebench-$stamp.err" \
    > "$out/pagebench-$stamp.log"
  if [ "$json" = 1 ]; then
    grep -v '^{' "$out/pagebench-$stamp.log" >&2
    grep '^{' "$out/pagebench-$stamp.log" | tail -n1
  else
    cat "$out/pagebench-$stamp.log"
  fi
}
run_diff() {
  echo "== DiffMeasurement (data diff of a ~1 GB table with 10 changed rows, beside pg_dump x2 + diff) =="
  "${java[@]}" -cp "$jar" io.forkline.pageserver.diff.DiffMeasurement "$@" 2> "$out/diff-$stamp.err" \
    | tee "$out/diff-$stamp.log"
}
run_ingest() {
  echo "== WalIngestThroughput =="
  "${java[@]}" -cp "$jar" io.forkline.wal.WalIngestThroughput "$@" 2> "$out/ingest-$stamp.err" \
    | tee "$out/ingest-$stamp.log"
}

run_lazy() {
  echo "== LazyComputeMeasurement =="
  "${java[@]}" -cp "$jar" io.forkline.pageserver.LazyComputeMeasurement "$@" 2> "$out/lazy-$stamp.err" \
    | tee "$out/lazy-$stamp.log"
}

run_import() {
  echo "== ImportMeasurement (import of a running primary beside pg_basebackup; mirror lag under pgbench) =="
  "${java[@]}" -cp "$jar" io.forkline.pageserver.mirror.ImportMeasurement "$@" 2> "$out/import-$stamp.err" \
    | tee "$out/import-$stamp.log"
}

run_proxy() {
  echo "== ProxyComparison (pgbench -S through the Postgres proxy vs straight to the compute's Unix socket and TCP port) =="
  "${java[@]}" -cp "$jar" io.forkline.compute.proxy.ProxyComparison "$@" 2> "$out/proxy-$stamp.err" \
    | tee "$out/proxy-$stamp.log"
}

run_tpcb() {
  echo "== TpcbComparison =="
  "${java[@]}" -cp "$jar" io.forkline.wal.TpcbComparison "$@" 2> "$out/tpcb-$stamp.err" \
    | tee "$out/tpcb-$stamp.log"
}

case "$what" in
  jmh) run_jmh "$@" ;;
  tpcb) run_tpcb "$@" ;;
  import) run_import "$@" ;;
  proxy) run_proxy "$@" ;;
  lazy) run_lazy "$@" ;;
  branch) run_branch "$@" ;;
  ingest) run_ingest "$@" ;;
  gc) run_gc "$@" ;;
  cost) run_cost "$@" ;;
  pagebench) run_pagebench "$@" ;;
  diff) run_diff "$@" ;;
  all) run_jmh; run_branch; run_ingest ;;
  *) echo "usage: benchmarks/run.sh [all|jmh|branch|ingest|gc|cost|pagebench|diff|cli|tpcb|lazy|import|proxy] [args]" >&2; exit 2 ;;
esac
