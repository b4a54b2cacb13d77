# Sourced by the shell harnesses (cli-latency.sh, wake-latency.sh): start_bench_server WORK starts a
# Forkline server of its own on ephemeral ports (admin API, page service, Postgres proxy) with its
# data in WORK/data, waits until it listens, exports FORKLINE_URL and FORKLINE_TOKEN, sets
# $server_pid, and installs an EXIT trap that stops it and deletes WORK/data. Needs $root (the
# repository) set by the caller.
server_pid=""
bench_server_cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$bench_work/data"
}
start_bench_server() {
  bench_work="$1"
  trap bench_server_cleanup EXIT
  "$root/forkline" server --data-dir "$bench_work/data" --port 0 --page-port 0 --pg-port 0 > "$bench_work/server.log" 2>&1 &
  server_pid=$!
  local url="" _
  for _ in $(seq 240); do
    url=$(sed -n 's/.*listening on \(http:[^,]*\),.*/\1/p' "$bench_work/server.log" | head -n1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$bench_work/server.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -n "$url" ] || { echo "$(basename "$0"): server did not start; see $bench_work/server.log" >&2; exit 1; }
  export FORKLINE_URL="$url"
  FORKLINE_TOKEN="$(cat "$bench_work/data/auth/admin.token")"
  export FORKLINE_TOKEN
}
