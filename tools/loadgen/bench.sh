#!/usr/bin/env bash
# bench.sh: one benchmark run of the Suishin services, every figure measured
# side by side in the same run on the same machine, so the ratios mean
# something even on a small shared machine (see BUILD-NOTES.md: compare only
# ratios measured in one run).
#
# Usage:
#   tools/loadgen/bench.sh [BUILD_DIR]        # BUILD_DIR defaults to <repo>/build
#
# Settings (environment variables, with their defaults):
#   BENCH_SECONDS=10   measured window of each RPC run
#   WARMUP=2           warm-up seconds before each window
#   CHANNELS=4         channels (TCP connections) per RPC run
#   INFLIGHT=64        calls in flight per RPC run
#   KPIS=200 YEARS=20  size of the seeded dataset (fiscal years 2005 on)
#   ROWS=1000000       rows of the bulk-import comparison
#   BATCH=1000         rows per ImportActuals message
#   CHANGES=2000       alert pipeline: changes measured one at a time
#   BURST=5000         alert pipeline: changes of the burst and of the flood
#   BURST_INFLIGHT=8   alert pipeline: RecordActual calls in flight in them
#   WRITERS=8          RecordActual calls in flight in the write-path runs
#   IDLE_STREAMS=1000  filtered WatchChanges streams open in the second of them
#   KEEP_TMP=1         keep the temporary directory (databases, logs)
#   STORES=0           leave out the last part: tools/loadgen/stores.sh (PostgreSQL
#                      beside SQLite, two kpi-service replicas beside one)
#   LOADGEN, PLAN_SERVICE, KPI_SERVICE, NOTIFICATION_SERVICE, GATEWAY
#                      binaries other than BUILD_DIR's (without a
#                      notification-service the alert pipeline is skipped)
#
# What it does, in a fresh temporary directory:
#   1. starts redis-server on a free port, plan-service and kpi-service (port 0,
#      --port_file), kpi-service with --cache=true and that Redis;
#   2. loadgen seed: the synthetic Hokkaido dataset (6 areas, 14
#      subprefectures, 179 municipalities, KPIS KPIs, YEARS years of actuals);
#   3. the alert pipeline: starts notification-service (following kpi-service,
#      the same Redis), runs loadgen alerts (RecordActual → alert event at a
#      Subscribe stream: latency one change at a time, then changes/s of a
#      burst and a flood; the changed actuals are put back), stops it again
#      so it does not share the machine with the runs after;
#   4. RPC runs (loadgen rpc), each a closed loop of INFLIGHT calls:
#        health Check                  the floor: the cheapest call the server has
#        GetAggregate / GetProgress warm    cache on, after a pass over every request
#        GetAggregate --distinct       cache on but emptied (restart + FLUSHALL):
#                                      every call a miss; short, it ends when the
#                                      KPIS×YEARS requests run out
#        GetAggregate / GetProgress cold    kpi-service restarted with --cache=false:
#                                      no answer kept (here or in Redis), every
#                                      call computes its answer from the KPI's
#                                      figures (the read model's snapshot, read
#                                      from SQLite once); tools/loadgen/growth.sh
#                                      measures the first reads, from SQLite
#        health, GetAggregate warm, secure   the same on a kpi-service with TLS and
#                                      token checks (--auth_keys), a client
#                                      sending a token over TLS
#        gateway /healthz, GetAggregate warm as JSON   wrk (INFLIGHT connections)
#                                      against the gateway in front of the same
#                                      warm kpi-service: the HTTP floor and the
#                                      JSON route of the same requests
#        RecordActual                  WRITERS calls in flight, each a new figure:
#                                      the write path (group commit, fsync per group);
#                                      then again with IDLE_STREAMS filtered
#                                      WatchChanges streams open (their p99 ratio)
#   5. the bulk load: loadgen import (ROWS actual rows through one ImportActuals
#      stream into a fresh kpi-service database) and loadgen sqlite-baseline
#      (the same rows, a plain SQLite loop);
#   6. the web page's first render of the seed's 推進管理表 in headless
#      Chromium (web_test's measurement, when that test is built);
#   7. prints one table: QPS, p50, p99 and the ratio to the health floor for
#      the RPC runs; the alert pipeline's latency and changes/s; rows/s and
#      their ratio for the bulk load.
# Every loadgen run's own output (machine, command line, full figures) is
# printed as it goes; the table comes last.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
loadgen=${LOADGEN:-$build/tools/loadgen/loadgen}
plan_bin=${PLAN_SERVICE:-$build/services/plan/plan-service}
kpi_bin=${KPI_SERVICE:-$build/services/kpi/kpi-service}
notification_bin=${NOTIFICATION_SERVICE:-$build/services/notification/notification-service}
gateway_bin=${GATEWAY:-$build/services/gateway/gateway}
for bin in "$loadgen" "$plan_bin" "$kpi_bin"; do
  [[ -x $bin ]] || { echo "bench.sh: $bin not built (make -j2 loadgen plan-service kpi-service)" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "bench.sh: redis-server not found" >&2; exit 2; }

BENCH_SECONDS=${BENCH_SECONDS:-10}
WARMUP=${WARMUP:-2}
CHANNELS=${CHANNELS:-4}
INFLIGHT=${INFLIGHT:-64}
KPIS=${KPIS:-200}
YEARS=${YEARS:-20}
ROWS=${ROWS:-1000000}
BATCH=${BATCH:-1000}
CHANGES=${CHANGES:-2000}
BURST=${BURST:-5000}
BURST_INFLIGHT=${BURST_INFLIGHT:-8}
WRITERS=${WRITERS:-8}
IDLE_STREAMS=${IDLE_STREAMS:-1000}

# shellcheck source=processes.sh
source "$root/tools/loadgen/processes.sh"

tmp=$(mktemp -d -t suishin-bench.XXXXXX)
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop "$pid"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "bench.sh: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() {
  local pid=$1 kept=() p
  for p in "${pids[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  pids=("${kept[@]}")
}

# start_redis: sets redis_port and redis_pid. Tries random ports until our own
# process answers (its process_id, so another Redis on the port cannot fool us).
start_redis() {
  local attempt i
  for ((attempt = 0; attempt < 20; attempt++)); do
    redis_port=$((20000 + RANDOM % 40000))
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$tmp" >"$tmp/redis.log" 2>&1 &
    redis_pid=$!
    for ((i = 0; i < 50; i++)); do
      kill -0 "$redis_pid" 2>/dev/null || break
      if redis-cli -p "$redis_port" info server 2>/dev/null | tr -d '\r' |
        grep -qx "process_id:$redis_pid"; then
        pids+=("$redis_pid")
        return 0
      fi
      sleep 0.1
    done
    stop "$redis_pid"
  done
  echo "bench.sh: could not start redis-server" >&2
  exit 1
}

# start_service NAME PORT_FILE COMMAND...: starts it, logs to $tmp/NAME.log,
# waits for its port file; sets service_pid and service_port.
start_service() {
  local name=$1 port_file=$2
  shift 2
  rm -f "$port_file"
  "$@" >"$tmp/$name.log" 2>&1 &
  service_pid=$!
  pids+=("$service_pid")
  wait_for_port "bench.sh: $name" "$port_file" "$service_pid" "$tmp/$name.log"
}

# start_kpi NAME DB CACHE(true|false): a kpi-service; sets kpi_pid and kpi.
# A kpi-service without a --cache flag always caches.
start_kpi() {
  local cache=(--cache="$3")
  [[ $cache_flag == yes ]] || cache=()
  local streams=(--max_streams_per_client=$((IDLE_STREAMS + 100)) --max_streams=$((IDLE_STREAMS + 200)))
  grep -q -- '--max_streams_per_client' <<<"$kpi_help" || streams=()
  start_service "$1" "$tmp/$1.port" "$kpi_bin" --kpi_listen 127.0.0.1:0 --kpi_db "$2" \
    --plan_address "$plan" --redis_url "redis://127.0.0.1:$redis_port/0" "${cache[@]}" \
    "${streams[@]}" --port_file "$tmp/$1.port"
  kpi_pid=$service_pid
  kpi=127.0.0.1:$service_port
}

stop_kpi() {
  stop "$kpi_pid"
  forget "$kpi_pid"
}

# run LABEL loadgen-args...: runs loadgen, shows and keeps its output; a failure
# is reported and the run goes on (the table shows it).
run() {
  local label=$1
  shift
  echo
  echo "---- $label"
  "$loadgen" "$@" 2>&1 | tee "$tmp/$label.out" || true
}

# result LABEL KEY: a value from the RESULT line of run LABEL, or "-".
result() {
  local line
  line=$(grep '^RESULT ' "$tmp/$1.out" 2>/dev/null | tail -1) || true
  local value
  value=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$2=//p")
  echo "${value:--}"
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

echo "bench.sh: machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "bench.sh: command: $0 $*"
echo "bench.sh: commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "bench.sh: BENCH_SECONDS=$BENCH_SECONDS WARMUP=$WARMUP CHANNELS=$CHANNELS INFLIGHT=$INFLIGHT KPIS=$KPIS YEARS=$YEARS ROWS=$ROWS BATCH=$BATCH CHANGES=$CHANGES BURST=$BURST BURST_INFLIGHT=$BURST_INFLIGHT"
echo "bench.sh: build $build, temporary directory $tmp"

kpi_help=$("$kpi_bin" --helpfull 2>&1 || true)
cache_flag=no
grep -q -- '--cache ' <<<"$kpi_help" && cache_flag=yes

start_redis
start_service plan-service "$tmp/plan.port" "$plan_bin" --plan_listen 127.0.0.1:0 \
  --plan_db "$tmp/plan.db" --port_file "$tmp/plan.port"
plan=127.0.0.1:$service_port
[[ $cache_flag == yes ]] || echo "bench.sh: this kpi-service has no --cache flag: no cache-off runs" >&2
start_kpi kpi-service "$tmp/kpi.db" true
echo "bench.sh: redis 127.0.0.1:$redis_port, plan-service $plan, kpi-service $kpi"

run seed seed --plan "$plan" --kpi "$kpi" --kpis "$KPIS" --years "$YEARS"
# The seed's own project beside it (same regions), for the KPI table row.
suishinctl_bin=${SUISHINCTL:-$build/tools/suishinctl/suishinctl}
if [[ -x $suishinctl_bin ]]; then
  "$suishinctl_bin" --plan_address "$plan" --kpi_address "$kpi" import-json \
    "$root/data/seed/dohoku-2019.json" >"$tmp/seed-import.out" 2>&1 ||
    { echo "bench.sh: the seed did not import:" >&2; cat "$tmp/seed-import.out" >&2; }
fi

# The alert pipeline: notification-service follows kpi-service, only while
# loadgen alerts runs.
if [[ -x $notification_bin ]]; then
  start_service notification-service "$tmp/notification.port" "$notification_bin" \
    --notification_listen 127.0.0.1:0 --notification_db "$tmp/notification.db" \
    --kpi_address "$kpi" --redis_url "redis://127.0.0.1:$redis_port/0" \
    --port_file "$tmp/notification.port"
  notification_pid=$service_pid
  notification=127.0.0.1:$service_port
  echo "bench.sh: notification-service $notification"
  run alerts alerts --kpi "$kpi" --notification "$notification" --changes "$CHANGES" \
    --burst "$BURST" --burst_inflight "$BURST_INFLIGHT"
  stop "$notification_pid"
  forget "$notification_pid"
  # What it logged besides starting and stopping (warnings, failed evaluations).
  echo "bench.sh: notification-service log: $(wc -l <"$tmp/notification-service.log") lines," \
    "$(grep -c '"level":"warning"' "$tmp/notification-service.log" || true) warnings," \
    "$(grep -c '"level":"error"' "$tmp/notification-service.log" || true) errors"
  grep -v '"event":"\(listening\|shutting_down\|stopped\)"' "$tmp/notification-service.log" |
    head -5 || true
else
  echo "bench.sh: $notification_bin not built (make notification-service): no alert pipeline run" >&2
fi

rpc=(rpc --target "$kpi" --channels "$CHANNELS" --inflight "$INFLIGHT" --seconds "$BENCH_SECONDS"
  --warmup "$WARMUP" --years "$YEARS")
run health "${rpc[@]}" --method health --label health
run aggregate-warm "${rpc[@]}" --method aggregate --warmup_pass --label aggregate-warm
run progress-warm "${rpc[@]}" --method progress --warmup_pass --label progress-warm
run table-warm "${rpc[@]}" --method table --project dohoku-anzen-anshin --as_of 2019 \
  --label table-warm

# The gateway in front of the same warm kpi-service: its health route (the
# HTTP floor) and the GetAggregate routes of the same requests, under wrk
# with as many connections as the gRPC runs have calls in flight.
if [[ -x $gateway_bin ]] && command -v wrk >/dev/null; then
  start_service gateway "$tmp/gateway.port" "$gateway_bin" --gateway_listen 127.0.0.1:0 \
    --plan_address "$plan" --kpi_address "$kpi" --notification_address 127.0.0.1:1 \
    --gateway_threads $((INFLIGHT + 8)) --port_file "$tmp/gateway.port"
  gateway_pid=$service_pid
  gateway=http://127.0.0.1:$service_port
  "$loadgen" http-paths --target "$kpi" --years "$YEARS" --out "$tmp/aggregate.paths"
  wrk_run() {  # wrk_run LABEL PATHS_FILE
    echo
    echo "---- $1"
    WRK_PATHS=$2 WRK_LABEL=$1 wrk -t2 -c"$INFLIGHT" -d"${WARMUP}s" \
      -s "$root/tools/loadgen/wrk_paths.lua" "$gateway" >/dev/null 2>&1 || true
    WRK_PATHS=$2 WRK_LABEL=$1 wrk -t2 -c"$INFLIGHT" -d"${BENCH_SECONDS}s" --latency \
      -s "$root/tools/loadgen/wrk_paths.lua" "$gateway" 2>&1 | tee "$tmp/$1.out" || true
  }
  echo /healthz >"$tmp/health.paths"
  wrk_run gateway-health "$tmp/health.paths"
  wrk_run gateway-aggregate "$tmp/aggregate.paths"
  stop "$gateway_pid"
  forget "$gateway_pid"
else
  echo "bench.sh: no gateway built or no wrk (apt-get install wrk): no gateway runs" >&2
fi

# The write path: RecordActual with WRITERS calls in flight (synchronous=FULL,
# one fsync per group commit), then the same with IDLE_STREAMS filtered
# WatchChanges streams held open beside it.
write=(rpc --target "$kpi" --channels "$WRITERS" --inflight "$WRITERS" --seconds "$BENCH_SECONDS"
  --warmup "$WARMUP" --years "$YEARS" --method record)
run record "${write[@]}" --label record
run record-streams "${write[@]}" --idle_streams "$IDLE_STREAMS" --label record-streams

# Security on: the same kpi-service database served with TLS and token
# checks (a local CA and signing key, as ./suishin up makes them), the health
# floor and warm GetAggregate again, from a client sending a token.
if grep -q -- '--auth_keys' <<<"$kpi_help" && [[ -x $suishinctl_bin ]]; then
  "$root/tools/pki/make-local-pki.sh" "$tmp/pki" >/dev/null
  "$suishinctl_bin" token issue --key "$tmp/pki/token-signing.key" --role viewer \
    --region hokkaido --subject bench --issuer suishin-bench --lifetime 1h >"$tmp/pki/bench.token"
  stop_kpi
  secure=(--tls_cert="$tmp/pki/service.pem" --tls_key="$tmp/pki/service.key"
    --tls_ca="$tmp/pki/ca.pem" --auth_keys="$tmp/pki/token-signing.pub" --auth_issuer=suishin-bench)
  start_service kpi-secure "$tmp/kpi-secure.port" "$kpi_bin" --kpi_listen 127.0.0.1:0 \
    --kpi_db "$tmp/kpi.db" --plan_address "$plan" --redis_url "redis://127.0.0.1:$redis_port/0" \
    "${secure[@]}" --port_file "$tmp/kpi-secure.port"
  kpi_pid=$service_pid
  rpc_secure=("${rpc[@]}")
  rpc_secure[2]=127.0.0.1:$service_port
  rpc_secure+=(--tls_ca="$tmp/pki/ca.pem" --token_file="$tmp/pki/bench.token")
  run health-secure "${rpc_secure[@]}" --method health --label health-secure
  run aggregate-warm-secure "${rpc_secure[@]}" --method aggregate --warmup_pass \
    --label aggregate-warm-secure
else
  echo "bench.sh: no --auth_keys in this kpi-service or no suishinctl: no secure runs" >&2
fi

# An empty cache: a new process (no in-process cache) and an empty Redis.
stop_kpi
redis-cli -p "$redis_port" flushall >/dev/null
start_kpi kpi-service-2 "$tmp/kpi.db" true
rpc[2]=$kpi
run aggregate-distinct "${rpc[@]}" --method aggregate --distinct --warmup 0 --label aggregate-distinct

if [[ $cache_flag == yes ]]; then
  stop_kpi
  start_kpi kpi-nocache "$tmp/kpi.db" false
  rpc[2]=$kpi
  run aggregate-cold "${rpc[@]}" --method aggregate --label aggregate-cold
  run progress-cold "${rpc[@]}" --method progress --label progress-cold
  # 北海道 over its 179 市町村 (the municipal KPIs), level by level.
  run aggregate-cold-largest "${rpc[@]}" --method aggregate --kpi_prefix muni- \
    --label aggregate-cold-largest
  one=("${rpc[@]}")
  one[4]=1  # --channels
  one[6]=1  # --inflight
  run aggregate-cold-largest-1 "${one[@]}" --method aggregate --kpi_prefix muni- \
    --label aggregate-cold-largest-1
fi

# The bulk load into a database of its own, as deployed (cache on).
stop_kpi
start_kpi kpi-import "$tmp/kpi-import.db" true
run import import --plan "$plan" --kpi "$kpi" --rows "$ROWS" --batch "$BATCH"
run sqlite sqlite-baseline --db "$tmp/baseline.db" --rows "$ROWS"

# The web page: the seed's table page, first render in headless Chromium.
web_test=$build/tests/services/gateway/web_test
if [[ -x $web_test ]]; then
  echo
  echo "---- page-render"
  "$web_test" --gtest_filter='WebPageTest.TheTablePagesFirstRenderIsMeasured' 2>&1 |
    tee "$tmp/page-render.out" || true
fi

health_qps=$(result health qps)
echo
echo "==== Suishin bench: nproc=$(nproc), ${CHANNELS} channels × ${INFLIGHT} in flight, ${BENCH_SECONDS} s windows"
printf '%-44s %10s %9s %9s %10s %8s\n' method QPS "p50 ms" "p99 ms" "/ health" errors
row() {
  printf '%-44s %10s %9s %9s %10s %8s\n' "$1" "$(result "$2" qps)" "$(result "$2" p50_ms)" \
    "$(result "$2" p99_ms)" "$(ratio "$(result "$2" qps)" "$health_qps")" "$(result "$2" errors)"
}
row "Health/Check (the floor)" health
row "GetAggregate warm (cache on, after a pass)" aggregate-warm
row "Health/Check, TLS + token checked" health-secure
row "GetAggregate warm, TLS + token checked" aggregate-warm-secure
row "GetAggregate cold (--cache=false)" aggregate-cold
row "GetAggregate misses (--distinct, $((KPIS * YEARS)) calls)" aggregate-distinct
row "gateway GET /healthz (HTTP floor, wrk)" gateway-health
row "gateway GetAggregate warm as JSON (wrk)" gateway-aggregate
row "GetProgress warm (cache on, after a pass)" progress-warm
row "GetProgress cold (--cache=false)" progress-cold
row "GetKpiTable warm (the seed's project, R元)" table-warm
row "GetAggregate cold, 北海道 over 179 市町村" aggregate-cold-largest
row "the same, one call in flight" aggregate-cold-largest-1
row "RecordActual, $WRITERS writers (synchronous=FULL)" record
row "RecordActual, $WRITERS writers + $IDLE_STREAMS idle streams" record-streams
echo "GetAggregate warm with TLS and tokens / without: $(ratio "$(result aggregate-warm-secure qps)" "$(result aggregate-warm qps)") (health: $(ratio "$(result health-secure qps)" "$health_qps"))"
echo "gateway JSON GetAggregate warm / gRPC GetAggregate warm: $(ratio "$(result gateway-aggregate qps)" "$(result aggregate-warm qps)") (issue 10 asks at least 0.5)"
echo "web page: the seed's 推進管理表, first render in headless Chromium: $(result page-render first_render_ms) ms (issue 10 asks under 300 ms)"
echo "issue 11: GetProgress warm / floor $(ratio "$(result progress-warm qps)" "$health_qps") (≥ 0.8), GetAggregate warm $(ratio "$(result aggregate-warm qps)" "$health_qps") (≥ 0.9), GetKpiTable warm $(ratio "$(result table-warm qps)" "$health_qps") (≥ 0.5), GetAggregate cold over 北海道 $(ratio "$(result aggregate-cold-largest qps)" "$health_qps") (≥ 0.5) with p99 $(result aggregate-cold-largest-1 p99_ms) ms at one in flight (< 2 ms)"
echo "RecordActual p99 with $IDLE_STREAMS idle filtered streams / without: $(ratio "$(result record-streams p99_ms)" "$(result record p99_ms)")"
echo
printf '%-44s %10s %9s %9s %9s %8s\n' "alert pipeline: RecordActual → Subscribe" "changes/s" \
  "p50 ms" "p99 ms" "max ms" missing
printf '%-44s %10s %9s %9s %9s %8s\n' "one change at a time ($CHANGES changes)" - \
  "$(result alerts p50_ms)" "$(result alerts p99_ms)" "$(result alerts max_ms)" "$(result alerts missing)"
printf '%-44s %10s %9s %9s %9s %8s\n' "burst, every event awaited ($BURST_INFLIGHT senders)" \
  "$(result alerts burst_per_s)" "$(result alerts burst_p50_ms)" "$(result alerts burst_p99_ms)" - \
  "$(result alerts burst_missing)"
echo "alert burst changes/s / health floor: $(ratio "$(result alerts burst_per_s)" "$health_qps")"
printf '%-44s %10s %9s %9s %9s %8s\n' "flood, none awaited (pairs' events coalesce)" \
  "$(result alerts flood_per_s)" - - - -
printf '%-44s %10s %9s %9s %9s %8s\n' "RecordActual alone (the flood's calls)" \
  "$(result alerts record_per_s)" - - - -
echo "alert pipeline: WatchChanges leg p50 $(result alerts watch_p50_ms) ms, evaluation leg p50 $(result alerts evaluate_p50_ms) ms / p99 $(result alerts evaluate_p99_ms) ms; alerts in the wrong state after the flood: $(result alerts mismatches)"
echo
printf '%-44s %10s %9s\n' "bulk load of $ROWS actual rows" "rows/s" seconds
printf '%-44s %10s %9s\n' "ImportActuals, one stream, $BATCH-row messages" "$(result import rows_per_s)" "$(result import seconds)"
printf '%-44s %10s %9s\n' "SQLite loop (prepared, one tx, WAL)" "$(result sqlite rows_per_s)" "$(result sqlite seconds)"
echo "ImportActuals / SQLite: $(ratio "$(result import rows_per_s)" "$(result sqlite rows_per_s)")"

# The stores: PostgreSQL beside SQLite, two kpi-service replicas beside one
# (stores.sh, its own processes and table; STORES=0 leaves it out).
if [[ ${STORES:-1} == 1 ]] && command -v psql >/dev/null; then
  stop_all=("${pids[@]}")
  for pid in "${stop_all[@]}"; do stop "$pid"; forget "$pid"; done
  echo
  echo "---- stores (tools/loadgen/stores.sh)"
  "$root/tools/loadgen/stores.sh" "$build" | sed -n '/^what (QPS/,$p'
fi
