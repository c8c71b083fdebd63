#!/usr/bin/env bash
# stores.sh: kpi-service on PostgreSQL beside SQLite, and two kpi-service
# replicas beside one, in one run on one machine (issue 12's speed figures;
# compare only ratios measured in one run, BUILD-NOTES.md).
#
# Usage:
#   tools/loadgen/stores.sh [BUILD_DIR]      # BUILD_DIR defaults to <repo>/build
#
# Settings (environment variables, with their defaults):
#   BENCH_SECONDS=5 WARMUP=1 CHANNELS=4 INFLIGHT=64   the RPC runs
#   KPIS=100 YEARS=10                                  the seeded dataset
#   WRITERS=8                                          RecordActual calls in flight
#   ROWS=100000 BATCH=1000                             the bulk import
#
# For each engine (SQLite, then PostgreSQL 15 with fsync and synchronous
# commits on, a cluster of its own on a Unix socket): plan-service and
# kpi-service on fresh stores, the synthetic dataset (loadgen seed), then
#   GetProgress / GetAggregate warm   cache on (answers kept)
#   GetProgress / GetAggregate cold   kpi-service restarted with --cache=false
#   RecordActual                      WRITERS calls in flight
#   ImportActuals                     ROWS rows into a fresh store
# and, on PostgreSQL, two kpi-service replicas on the same database behind
# one client balancing round-robin over both (an ipv4: target): warm
# GetProgress and RecordActual beside the one-replica figures.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
loadgen=$build/tools/loadgen/loadgen
plan_bin=$build/services/plan/plan-service
kpi_bin=$build/services/kpi/kpi-service
for bin in "$loadgen" "$plan_bin" "$kpi_bin"; do
  [[ -x $bin ]] || { echo "stores.sh: $bin not built" >&2; exit 2; }
done
BENCH_SECONDS=${BENCH_SECONDS:-5}
WARMUP=${WARMUP:-1}
CHANNELS=${CHANNELS:-4}
INFLIGHT=${INFLIGHT:-64}
KPIS=${KPIS:-100}
YEARS=${YEARS:-10}
WRITERS=${WRITERS:-8}
ROWS=${ROWS:-100000}
BATCH=${BATCH:-1000}

# shellcheck source=processes.sh
source "$root/tools/loadgen/processes.sh"

tmp=$(mktemp -d -t suishin-stores.XXXXXX)
pg=/tmp/suishin-stores-pg-$$
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop "$pid"; done
  "$root/tests/support/test-postgres" stop "$pg" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME COMMAND...: starts it with --port_file, logs to $tmp/NAME.log;
# sets pid and address.
start() {
  local name=$1
  shift
  rm -f "$tmp/$name.port"
  "$@" --port_file "$tmp/$name.port" >"$tmp/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_for_port "stores.sh: $name" "$tmp/$name.port" "$pid" "$tmp/$name.log"
  address=127.0.0.1:$service_port
}

run() {
  local label=$1
  shift
  echo "---- $label"
  "$loadgen" "$@" 2>&1 | tee "$tmp/$label.out" | grep -E '^RESULT|rror' || true
}

result() {
  local line value
  line=$(grep '^RESULT ' "$tmp/$1.out" 2>/dev/null | tail -1) || true
  value=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$2=//p")
  echo "${value:--}"
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

newdb() {
  psql -h "$pg" -U postgres -d postgres -qAt -c "CREATE DATABASE $1" >/dev/null
  echo "postgresql:///$1?host=$pg&user=postgres"
}

redis_port=$((20000 + RANDOM % 40000))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  >"$tmp/redis.log" 2>&1 &
pids+=("$!")
TEST_POSTGRES_DURABLE=1 "$root/tests/support/test-postgres" start "$pg" >/dev/null

echo "stores.sh: machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "stores.sh: commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
  "BENCH_SECONDS=$BENCH_SECONDS INFLIGHT=$INFLIGHT KPIS=$KPIS YEARS=$YEARS WRITERS=$WRITERS ROWS=$ROWS"

# engine NAME PLAN_DB KPI_DB IMPORT_DB: every run of one engine.
engine() {
  local name=$1 plan_db=$2 kpi_db=$3 import_db=$4 plan kpi
  redis-cli -p "$redis_port" flushall >/dev/null
  start "$name-plan" "$plan_bin" --plan_listen 127.0.0.1:0 --plan_db "$plan_db" \
    --audit_db "$tmp/$name-plan.audit"
  plan=$address
  local kpi_flags=(--kpi_listen 127.0.0.1:0 --plan_address "$plan"
    --redis_url "redis://127.0.0.1:$redis_port/0" --audit_db "$tmp/$name-kpi.audit")
  start "$name-kpi" "$kpi_bin" --kpi_db "$kpi_db" "${kpi_flags[@]}"
  kpi=$address
  local kpi_pid=$pid
  run "$name-seed" seed --plan "$plan" --kpi "$kpi" --kpis "$KPIS" --years "$YEARS"
  local rpc=(rpc --channels "$CHANNELS" --inflight "$INFLIGHT" --seconds "$BENCH_SECONDS"
    --warmup "$WARMUP" --years "$YEARS")
  run "$name-progress-warm" "${rpc[@]}" --target "$kpi" --method progress --warmup_pass \
    --label "$name-progress-warm"
  run "$name-aggregate-warm" "${rpc[@]}" --target "$kpi" --method aggregate --warmup_pass \
    --label "$name-aggregate-warm"
  run "$name-record" rpc --target "$kpi" --channels "$WRITERS" --inflight "$WRITERS" \
    --seconds "$BENCH_SECONDS" --warmup "$WARMUP" --years "$YEARS" --method record \
    --label "$name-record"
  if [[ $name == postgresql ]]; then
    # A second replica on the same database; one client over both.
    start "$name-kpi-b" "$kpi_bin" --kpi_db "$kpi_db" "${kpi_flags[@]}" \
      --audit_db "$tmp/$name-kpi-b.audit"
    local both="ipv4:$kpi,$address" b_pid=$pid
    run replicas-progress-warm "${rpc[@]}" --target "$both" --method progress --warmup_pass \
      --label replicas-progress-warm
    run replicas-record rpc --target "$both" --channels "$WRITERS" --inflight "$WRITERS" \
      --seconds "$BENCH_SECONDS" --warmup "$WARMUP" --years "$YEARS" --method record \
      --label replicas-record
    stop "$b_pid"
  fi
  stop "$kpi_pid"
  start "$name-kpi-cold" "$kpi_bin" --kpi_db "$kpi_db" "${kpi_flags[@]}" --cache=false
  kpi_pid=$pid
  run "$name-progress-cold" "${rpc[@]}" --target "$address" --method progress \
    --label "$name-progress-cold"
  run "$name-aggregate-cold" "${rpc[@]}" --target "$address" --method aggregate \
    --label "$name-aggregate-cold"
  stop "$kpi_pid"
  start "$name-kpi-import" "$kpi_bin" --kpi_db "$import_db" "${kpi_flags[@]}"
  kpi_pid=$pid
  run "$name-import" import --plan "$plan" --kpi "$address" --rows "$ROWS" --batch "$BATCH"
  stop "$kpi_pid"
}

engine sqlite "$tmp/plan.db" "$tmp/kpi.db" "$tmp/kpi-import.db"
engine postgresql "$(newdb plan)" "$(newdb kpi)" "$(newdb kpi_import)"

echo
printf '%-34s %12s %12s %9s\n' "what (QPS or rows/s; p99 ms)" "SQLite" "PostgreSQL" "PG/SQLite"
row() {
  local what=$1 key=$2 s p
  s=$(result "sqlite-$what" "$key")
  p=$(result "postgresql-$what" "$key")
  printf '%-34s %12s %12s %9s\n' "$3" "$s" "$p" "$(ratio "$p" "$s")"
}
row progress-warm qps "GetProgress warm, QPS"
row aggregate-warm qps "GetAggregate warm, QPS"
row progress-cold qps "GetProgress cold, QPS"
row aggregate-cold qps "GetAggregate cold, QPS"
row record qps "RecordActual, $WRITERS writers, QPS"
row record p99_ms "RecordActual, p99 ms"
row import rows_per_s "ImportActuals, rows/s"
echo
printf '%-34s %12s %12s %9s\n' "PostgreSQL" "1 replica" "2 replicas" "2/1"
printf '%-34s %12s %12s %9s\n' "GetProgress warm, QPS" "$(result postgresql-progress-warm qps)" \
  "$(result replicas-progress-warm qps)" \
  "$(ratio "$(result replicas-progress-warm qps)" "$(result postgresql-progress-warm qps)")"
printf '%-34s %12s %12s %9s\n' "RecordActual, $WRITERS writers, QPS" "$(result postgresql-record qps)" \
  "$(result replicas-record qps)" \
  "$(ratio "$(result replicas-record qps)" "$(result postgresql-record qps)")"
