#!/usr/bin/env bash
# Where a Release latchkey spends its CPU on one benchmark row: serves the
# --seed fixture (SQLite, or a throwaway PostgreSQL with fsync on), drives
# it with wrk -t1 -c64 for 10 s as `make bench` does, samples it with
# `perf record -g` meanwhile, and writes the profile by library and by
# symbol (with its callers' share) to bench/results/profile-<row>-<backend>.txt.
#   bench/profile.sh devices_list|client_sessions_create|unlock_door sqlite|postgres
# Needs perf (Debian's linux-perf) and build-bench/ (make build-bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROW=${1:?row: devices_list or client_sessions_create}
BACKEND=${2:?backend: sqlite or postgres}
BIN=${LATCHKEY_BIN:-$ROOT/build-bench/latchkey}
command -v perf >/dev/null || { echo "profile.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
DIR=$(mktemp -d)
OUT=$ROOT/bench/results/profile-$ROW-$BACKEND.txt
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [ -d "$DIR/pg" ] && "$ROOT/scripts/pg-test-cluster" stop "$DIR/pg" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

case "$ROW" in
  devices_list)
    export BENCH_METHOD=POST BENCH_AUTH=seam_cst1_token BENCH_BODY='{}' BENCH_UNIQUE= BENCH_EXPECT='"devices"'
    ROUTE=/devices/list ;;
  client_sessions_create)
    export BENCH_METHOD=POST BENCH_AUTH=seam_apikey1_token BENCH_BODY='{"user_identifier_key":"%s"}' \
      BENCH_UNIQUE="profile$$" BENCH_EXPECT='"client_session"'
    ROUTE=/client_sessions/create ;;
  unlock_door)
    export BENCH_METHOD=POST BENCH_AUTH=seam_cst1_token BENCH_BODY='{"device_id":"august_device_1","sync":true}' \
      BENCH_UNIQUE= BENCH_EXPECT='"status":"success"'
    ROUTE=/locks/unlock_door ;;
  *) echo "profile.sh: no row $ROW" >&2; exit 2 ;;
esac

ARGS=(serve --seed --data-dir "$DIR/data" --port 0 --action-delay-ms 0)
if [ "$BACKEND" = postgres ]; then
  "$ROOT/scripts/pg-test-cluster" start "$DIR/pg" --owner $$ --durable >/dev/null
  "$ROOT/scripts/pg-test-cluster" createdb "$DIR/pg" bench >/dev/null
  export PGPASSWORD; PGPASSWORD=$(cat "$DIR/pg/password")
  ARGS+=(--database "postgres://latchkey@127.0.0.1:$(cat "$DIR/pg/port")/bench")
fi
"$BIN" "${ARGS[@]}" 2>"$DIR/log" &
SERVER=$!
for _ in $(seq 100); do grep -q "listening on" "$DIR/log" && break; sleep 0.1; done
URL=$(grep -o "listening on http://[0-9.:]*" "$DIR/log" | cut -d' ' -f3)
[ -n "$URL" ] || { cat "$DIR/log" >&2; exit 1; }

wrk -t1 -c64 -d2s -s "$ROOT/bench/wrk.lua" "$URL$ROUTE" >/dev/null # warm-up
perf record -F 1999 -g -p "$SERVER" -o "$DIR/perf.data" -- sleep 9 >/dev/null 2>&1 &
PERF=$!
wrk -t1 -c64 -d10s -s "$ROOT/bench/wrk.lua" "$URL$ROUTE" >"$DIR/wrk.txt"
wait "$PERF" || true
{
  echo "# bench/profile.sh $ROW $BACKEND: $(git -C "$ROOT" describe --always --dirty), $(date -u +%FT%TZ)"
  grep -E "Requests/sec|Latency" "$DIR/wrk.txt"
  echo
  echo "## latchkey's CPU by library (perf report --sort dso)"
  perf report -i "$DIR/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]'
  echo
  echo "## by symbol, with callers (perf report --children --sort symbol), first 60"
  perf report -i "$DIR/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -60
} >"$OUT"
echo "profile.sh: $OUT"
