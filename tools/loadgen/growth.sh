#!/usr/bin/env bash
# growth.sh: how the cost of kpi-service's cold reads and of the bulk load
# grows with the data, at 1×, 10× and 100× the Hokkaido-sized synthetic
# dataset (loadgen seed: 200 KPIs over the areas and 10 KPIs tracked in all
# 179 市町村 at 1×, 20 fiscal years each). Prints the curve and draws it as
# an SVG (log-log, with a line of slope 1 through each first point: a curve
# under its line grows no faster than linearly).
#
# Usage:
#   tools/loadgen/growth.sh [BUILD_DIR] [OUT_SVG]
#     BUILD_DIR defaults to <repo>/build, OUT_SVG to ./growth.svg
#
# Settings (environment variables, with their defaults):
#   SCALES="1 10 100"   the multiples of the dataset
#   KEEP_TMP=1          keep the temporary directory (databases, logs)
#   DRAW_ONLY=1         measure nothing: print and draw OUT_SVG's .tsv again
# The figures are kept beside the SVG (growth.tsv for growth.svg), one line
# per scale: scale, rows, import s, rows/s, table ms, the table's KPIs,
# aggregate ms.
#
# Per scale, in a fresh directory: plan-service and kpi-service (--cache=false,
# no Redis: nothing but the store to read from), then
#   ImportActuals   loadgen seed: every baseline, target and actual row of
#                   the dataset through one ImportActuals stream (rows/s);
#   cold GetKpiTable      kpi-service restarted (nothing in memory), then one
#                   GetKpiTable of project-dohoku as of the last year: every
#                   one of its KPIs read from the store and computed;
#   cold GetAggregate     kpi-service restarted, then GetAggregate of 北海道
#                   over its 179 市町村 in the last year for each municipal
#                   KPI once, one call in flight: each call is the first read
#                   of its KPI (read whole from the store, then added up level
#                   by level); p50 per call.
# What each reads grows with the scale: the table with the project's KPIs
# (its cost per KPI is printed), the import with its rows; one KPI's
# aggregate reads the same amount at every scale, so its cost should stay
# flat however large the database grows around it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
svg=${2:-$PWD/growth.svg}
loadgen=${LOADGEN:-$build/tools/loadgen/loadgen}
plan_bin=${PLAN_SERVICE:-$build/services/plan/plan-service}
kpi_bin=${KPI_SERVICE:-$build/services/kpi/kpi-service}
for bin in "$loadgen" "$plan_bin" "$kpi_bin"; do
  [[ -x $bin ]] || { echo "growth.sh: $bin not built (make -j2 loadgen plan-service kpi-service)" >&2; exit 2; }
done
SCALES=${SCALES:-1 10 100}
FIRST_YEAR=2005
YEARS=20
LAST_YEAR=$((FIRST_YEAR + YEARS - 1))

# shellcheck source=processes.sh
source "$root/tools/loadgen/processes.sh"

tmp=$(mktemp -d -t suishin-growth.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop "$pid"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "growth.sh: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_service NAME DIR COMMAND...: starts it with --port_file, logs to
# DIR/NAME.log; sets service_pid and service_address.
start_service() {
  local name=$1 dir=$2
  shift 2
  local port_file=$dir/$name.port
  rm -f "$port_file"
  "$@" --port_file "$port_file" >>"$dir/$name.log" 2>&1 &
  service_pid=$!
  pids+=("$service_pid")
  wait_for_port "growth.sh: $name" "$port_file" "$service_pid" "$dir/$name.log" 300
  service_address=127.0.0.1:$service_port
}

start_kpi() {
  start_service kpi "$1" "$kpi_bin" --kpi_listen 127.0.0.1:0 --kpi_db "$1/kpi.db" \
    --plan_address "$plan" --redis_url= --cache=false --import_max_rows=100000000 \
    --max_message_bytes=268435456
  kpi_pid=$service_pid
  kpi=$service_address
}

# result FILE KEY: a value from the RESULT line in FILE, or "-".
result() {
  local line value
  line=$(grep '^RESULT ' "$1" 2>/dev/null | tail -1) || true
  value=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$2=//p")
  echo "${value:--}"
}

echo "growth.sh: machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "growth.sh: commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
results=${svg%.svg}.tsv
[[ ${DRAW_ONLY:-0} == 1 ]] && SCALES=""
[[ ${DRAW_ONLY:-0} == 1 ]] || : >"$results"
for scale in $SCALES; do
  dir=$tmp/x$scale
  mkdir -p "$dir"
  echo
  echo "==== ${scale}×: $((200 * scale)) KPIs over the areas, $((10 * scale)) over the 179 市町村"
  start_service plan "$dir" "$plan_bin" --plan_listen 127.0.0.1:0 --plan_db "$dir/plan.db"
  plan_pid=$service_pid
  plan=$service_address
  start_kpi "$dir"
  "$loadgen" seed --plan "$plan" --kpi "$kpi" --kpis $((200 * scale)) \
    --municipal_kpis $((10 * scale)) --first_year $FIRST_YEAR --years $YEARS \
    --import_timeout_s 3600 2>&1 | grep -v '^rows: .* sent$' | grep -v '^kpis: ' |
    tee "$dir/seed.out" || true

  stop "$kpi_pid"
  start_kpi "$dir"
  "$loadgen" rpc --target "$kpi" --method table --project project-dohoku --as_of $LAST_YEAR \
    --channels 1 --inflight 1 --distinct --warmup 0 --seconds 3600 --timeout_ms 600000 \
    --label table 2>&1 | tee "$dir/table.out" || true
  table_kpis=$(awk -v n=$((200 * scale)) 'BEGIN { print int((n + 5) / 6) }')

  stop "$kpi_pid"
  start_kpi "$dir"
  "$loadgen" rpc --target "$kpi" --method aggregate --kpi_prefix muni- \
    --first_year $LAST_YEAR --years 1 --channels 1 --inflight 1 --distinct --warmup 0 \
    --seconds 3600 --label aggregate 2>&1 | tee "$dir/aggregate.out" || true

  stop "$kpi_pid"
  stop "$plan_pid"
  pids=()
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scale" "$(result "$dir/seed.out" rows)" \
    "$(result "$dir/seed.out" import_s)" "$(result "$dir/seed.out" rows_per_s)" \
    "$(result "$dir/table.out" p50_ms)" "$table_kpis" "$(result "$dir/aggregate.out" p50_ms)" \
    >>"$results"
  [[ ${KEEP_TMP:-0} == 1 ]] || rm -f "$dir"/*.db "$dir"/*.db-*
done

echo
echo "==== Suishin growth: nproc=$(nproc); kpi-service --cache=false, restarted before each cold read"
printf '%-6s %10s %10s %10s %14s %10s %14s %16s\n' scale "rows" "import s" "rows/s" \
  "table ms" "its KPIs" "ms per KPI" "aggregate ms"
awk -F'\t' '{
  per = ($5 == "-" || $6 == 0) ? "-" : sprintf("%.3f", $5 / $6);
  printf "%-6s %10s %10s %10s %14s %10s %14s %16s\n", $1 "x", $2, $3, $4, $5, $6, per, $7
}' "$results"
awk -F'\t' 'NR == 1 { r = $2; i = $3; t = $5; a = $7; next }
  { if (r > 0 && i > 0 && t > 0 && a > 0)
      printf "%sx / 1x: data %.1f×, import time %.1f×, table %.1f×, aggregate %.2f×\n",
        $1, $2 / r, $3 / i, $5 / t, $7 / a }' "$results"

# The SVG: log-log, the scale on x; each series's time, with a dashed line
# of slope 1 from its first point (linear growth) beside it.
awk -F'\t' -v out="$svg" '
  function lx(v) { return 80 + (log(v) / log(10)) / 2 * 460 }
  function ly(v) { return 340 - (log(v) / log(10) - lo) / (hi - lo) * 300 }
  { n++; s[n] = $1; imp[n] = $3 * 1000; tab[n] = $5; agg[n] = $7 }
  END {
    lo = 99; hi = -99
    for (i = 1; i <= n; i++) {
      split(imp[i] " " tab[i] " " agg[i], vals, " ")
      for (j = 1; j <= 3; j++) if (vals[j] > 0) {
        l = log(vals[j]) / log(10); if (l < lo) lo = l; if (l > hi) hi = l
      }
    }
    lo = int(lo) - (lo < 0 ? 1 : 0); hi = int(hi) + 1 + (hi - int(hi) > 0 ? 1 : 0)
    if (hi - lo < 2) hi = lo + 2
    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"920\" height=\"400\" font-family=\"sans-serif\" font-size=\"12\">" > out
    print "<rect width=\"920\" height=\"400\" fill=\"white\"/>" > out
    print "<text x=\"80\" y=\"20\" font-size=\"14\">kpi-service: cost against data (log-log); dashed: linear growth from 1×</text>" > out
    for (e = lo; e <= hi; e++) {
      y = ly(10 ^ e)
      printf "<line x1=\"80\" y1=\"%.1f\" x2=\"540\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"74\" y=\"%.1f\" text-anchor=\"end\">%g ms</text>\n", y, y, y + 4, 10 ^ e > out
    }
    for (i = 1; i <= n; i++) {
      x = lx(s[i])
      printf "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"340\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"358\" text-anchor=\"middle\">%s×</text>\n", x, x, x, s[i] > out
    }
    print "<text x=\"310\" y=\"380\" text-anchor=\"middle\">dataset scale (1× = 200 + 10 KPIs, 20 years)</text>" > out
    name[1] = "ImportActuals, whole dataset"; color[1] = "#1f77b4"
    name[2] = "cold GetKpiTable, project-dohoku"; color[2] = "#d62728"
    name[3] = "cold GetAggregate, 北海道 over 179 市町村 (p50)"; color[3] = "#2ca02c"
    for (k = 1; k <= 3; k++) {
      path = ""; ref = ""
      for (i = 1; i <= n; i++) {
        v = (k == 1 ? imp[i] : (k == 2 ? tab[i] : agg[i]))
        if (v <= 0) continue
        if (first[k] == "") { first[k] = v; firsts[k] = s[i] }
        path = path sprintf("%s%.1f,%.1f", path == "" ? "M" : " L", lx(s[i]), ly(v))
        ref = ref sprintf("%s%.1f,%.1f", ref == "" ? "M" : " L", lx(s[i]), ly(first[k] * s[i] / firsts[k]))
        printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", lx(s[i]), ly(v), color[k] > out
      }
      if (path == "") continue
      printf "<path d=\"%s\" stroke=\"%s\" fill=\"none\" stroke-width=\"2\"/>\n", path, color[k] > out
      printf "<path d=\"%s\" stroke=\"%s\" fill=\"none\" stroke-dasharray=\"4 4\"/>\n", ref, color[k] > out
      printf "<text x=\"556\" y=\"%d\" font-size=\"11\"><tspan fill=\"%s\">■</tspan> %s</text>\n", 84 + k * 40, color[k], name[k] > out
    }
    print "</svg>" > out
  }' "$results"
echo "growth.sh: the curve drawn in $svg, the figures in $results"
