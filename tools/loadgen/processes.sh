# processes.sh: what bench.sh and growth.sh share to run the services they
# measure (sourced, not run).

# stop PID: SIGTERM, then up to 10 s for it to exit (services shut down
# gracefully), then SIGKILL.
stop() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wait_for_port WHO PORT_FILE PID LOG [TENTHS]: waits (up to TENTHS tenths of
# a second, 100 unless given) for the service PID to write its port to
# PORT_FILE; sets service_port. When it exits or never does, prints LOG and
# exits the script.
wait_for_port() {
  local who=$1 port_file=$2 pid=$3 log=$4 tenths=${5:-100} i
  for ((i = 0; i < tenths; i++)); do
    if [[ -s $port_file ]]; then
      service_port=$(<"$port_file")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$who did not start; its log:" >&2
  cat "$log" >&2
  exit 1
}
