#!/usr/bin/env bash
# Runs the whole system locally: Azurite (the Azure Storage emulator, from npm) and the API with
# its co-hosted Orleans silo. Data is kept under $DATA_DIR (default .data/), so it survives
# restarts; delete that folder for a clean slate. Ctrl+C stops everything.
#
#   ./run.sh                   Azurite and the API with its co-hosted silo
#   ./run.sh --silos N         a cluster (README "Cluster mode"): Azurite, N silo processes on
#                              Azure Table clustering and the API as their client, connected by
#                              mutual TLS with a certificate made for the run ($DATA_DIR/tls/);
#                              a silo that dies is not restarted, the others go on
#   ./run.sh --add-silo K      silo K started into the running cluster (again), in the foreground
#   --no-build (or RUN_NO_BUILD=1) runs what was built before, e.g. by test.sh
#
# PID files: $DATA_DIR/pids/{azurite,api,silo-1..silo-N}.pid; silo logs: $DATA_DIR/logs/silo-K.log.
#
# Settings (environment variables, all optional):
#   ASPNETCORE_URLS       where the API listens            (default http://localhost:5000)
#   AZURITE_BLOB_PORT     Azurite blob service port        (default 10000)
#   AZURITE_QUEUE_PORT    Azurite queue service port       (default 10001)
#   AZURITE_TABLE_PORT    Azurite table service port       (default 10002)
#   ORLEANS_SILO_PORT     silo-to-silo port                (default 11111; silo K: + K - 1)
#   ORLEANS_GATEWAY_PORT  client gateway port              (default 30000; silo K: + K - 1)
#   DATA_DIR              where local data is kept         (default .data, relative to the repo)
set -euo pipefail

# Work from the repository root whatever the caller's current directory is: every path below
# (node_modules, Api/, .data) is relative to it.
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=scripts/cluster.sh
source scripts/cluster.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

AZURITE_BLOB_PORT="${AZURITE_BLOB_PORT:-10000}"
AZURITE_QUEUE_PORT="${AZURITE_QUEUE_PORT:-10001}"
AZURITE_TABLE_PORT="${AZURITE_TABLE_PORT:-10002}"
ORLEANS_SILO_PORT="${ORLEANS_SILO_PORT:-11111}"
ORLEANS_GATEWAY_PORT="${ORLEANS_GATEWAY_PORT:-30000}"
ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://localhost:5000}"
DATA_DIR="${DATA_DIR:-.data}"

# Grace periods before SIGKILL. The API gets longer: it first answers the requests in flight
# (up to Orleans' 30 s call timeout), then its silo deactivates its grains and leaves the
# cluster; the .NET host allows 45 s for both (Api/Operations/GracefulShutdown.cs).
API_STOP_SECONDS=50
AZURITE_STOP_SECONDS=10
# A standalone silo hands its grains over and flushes its projections within the host's shutdown time.
SILO_STOP_SECONDS=50

usage() {
  # The comment at the top of this file, without its '#'.
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

# --- Arguments ---------------------------------------------------------------------------------
silos=0
silos_given=""
add_silo=""
add_silo_given=""
no_build="${RUN_NO_BUILD:-}"
[[ "$no_build" == "0" ]] && no_build=""
while (($# > 0)); do
  case "$1" in
    --silos) silos="${2:-}"; silos_given=1; shift 2 || { usage >&2; exit 2; } ;;
    --silos=*) silos="${1#*=}"; silos_given=1; shift ;;
    --add-silo) add_silo="${2:-}"; add_silo_given=1; shift 2 || { usage >&2; exit 2; } ;;
    --add-silo=*) add_silo="${1#*=}"; add_silo_given=1; shift ;;
    --no-build) no_build=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) info "Unknown argument '$1'."; usage >&2; exit 2 ;;
  esac
done
# Decimal numbers only: bash arithmetic reads "08" as octal (an error) and "0" would mean no cluster.
if [[ -n "$silos_given" ]] && { ! [[ "$silos" =~ ^[1-9][0-9]*$ ]] || ((silos < 2)); }; then
  die "--silos takes a number of silos, 2 or more (without it, the API co-hosts the one silo); got '$silos'"
fi
if [[ -n "$add_silo_given" ]] && { ! [[ "$add_silo" =~ ^[1-9][0-9]*$ ]] || [[ -n "$silos_given" ]]; }; then
  die "--add-silo takes the number K of one silo (1, 2, ...), and goes without --silos; got '$add_silo'"
fi
build_flag=""
[[ -n "$no_build" ]] && build_flag="--no-build"

# Port of one URL from ASPNETCORE_URLS ("http://localhost:5000", "http://+:80", "https://[::1]:5001").
url_port() {
  local url="$1" rest hostport
  rest="${url#*://}"
  hostport="${rest%%/*}"
  if [[ "$hostport" =~ :([0-9]+)$ ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
  elif [[ "$url" == https://* ]]; then
    printf '443\n'
  else
    printf '80\n'
  fi
}

# A URL a browser can open: wildcard hosts (+, *, 0.0.0.0, [::]) become localhost.
browsable_url() {
  local url="$1" scheme rest hostport path host port=""
  scheme="${url%%://*}"
  rest="${url#*://}"
  hostport="${rest%%/*}"
  path="${rest#"$hostport"}"
  path="${path%/}"
  if [[ "$hostport" =~ ^(.*)(:[0-9]+)$ ]]; then
    host="${BASH_REMATCH[1]}"
    port="${BASH_REMATCH[2]}"
  else
    host="$hostport"
  fi
  case "$host" in
    '+' | '*' | '0.0.0.0' | '[::]' | '') host=localhost ;;
  esac
  printf '%s://%s%s%s\n' "$scheme" "$host" "$port" "$path"
}

require_tools

# A running silo K holds its ports: say so before the port checks call them taken.
if [[ -n "$add_silo" ]] && pid="$(running_pid "silo-$add_silo" "$SILO_PROCESS_PATTERN")"; then
  die "silo-$add_silo runs already (pid $pid, $(pid_file "silo-$add_silo")); stop it first, or add another number"
fi

# Two Azurites on one data folder each save their whole database over the other's: whatever one
# of them acknowledged is lost. A run on other ports with the same DATA_DIR is refused (here, and
# again just before this run takes the folder over, should the other have started meanwhile).
refuse_data_dir_in_use() {
  local pid
  if pid="$(running_pid azurite "$AZURITE_MAIN")"; then
    die "$DATA_DIR is in use: another ./run.sh keeps its data there (its Azurite runs, pid $pid); stop it first, or give this one a DATA_DIR of its own (DATA_DIR=.data2 ./run.sh)"
  fi
}
if [[ -z "$add_silo" ]]; then
  refuse_data_dir_in_use
fi

# --- Ports: refuse to start anything while one is taken, and say which -----------------------
IFS=';' read -r -a api_urls <<<"$ASPNETCORE_URLS"
port_names=()
port_numbers=()
add_port() {
  port_names+=("$1")
  port_numbers+=("$2")
}
if [[ -n "$add_silo" ]]; then
  add_port "silo-$add_silo silo port (ORLEANS_SILO_PORT + $((add_silo - 1)))" "$(silo_port "$add_silo")"
  add_port "silo-$add_silo gateway port (ORLEANS_GATEWAY_PORT + $((add_silo - 1)))" "$(gateway_port "$add_silo")"
else
  add_port "Azurite blob (AZURITE_BLOB_PORT)" "$AZURITE_BLOB_PORT"
  add_port "Azurite queue (AZURITE_QUEUE_PORT)" "$AZURITE_QUEUE_PORT"
  add_port "Azurite table (AZURITE_TABLE_PORT)" "$AZURITE_TABLE_PORT"
  if ((silos == 0)); then
    add_port "Orleans silo (ORLEANS_SILO_PORT)" "$ORLEANS_SILO_PORT"
    add_port "Orleans gateway (ORLEANS_GATEWAY_PORT)" "$ORLEANS_GATEWAY_PORT"
  fi
  for ((i = 1; i <= silos; i++)); do
    add_port "silo-$i silo port (ORLEANS_SILO_PORT + $((i - 1)))" "$(silo_port "$i")"
    add_port "silo-$i gateway port (ORLEANS_GATEWAY_PORT + $((i - 1)))" "$(gateway_port "$i")"
  done
  for url in "${api_urls[@]}"; do
    if [[ -n "$url" ]]; then
      add_port "API $url (ASPNETCORE_URLS)" "$(url_port "$url")"
    fi
  done
fi

problems=0
for i in "${!port_numbers[@]}"; do
  port="${port_numbers[$i]}"
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    info "Port '$port' for ${port_names[$i]} is not a valid port number."
    problems=1
    continue
  fi
  # Two of our own services on one port would fail later with a confusing bind error.
  for ((j = 0; j < i; j++)); do
    if [[ "${port_numbers[$j]}" == "$port" ]]; then
      info "Port $port is configured twice: for ${port_names[$j]} and for ${port_names[$i]}."
      problems=1
    fi
  done
  if ! port_is_free "$port"; then
    info "Port $port for ${port_names[$i]} is already in use (see who holds it: ss -ltnp 'sport = :$port')."
    problems=1
  fi
done
if ((problems)); then
  info "Nothing was started. Free the port(s) or choose others with the variables listed at the top of run.sh."
  exit 1
fi

# --- One more silo into a running cluster: it replaces this script, in the foreground ----------
if [[ -n "$add_silo" ]]; then
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_TABLE_PORT") 2>/dev/null; then
    die "no Azurite on 127.0.0.1:$AZURITE_TABLE_PORT: start the cluster first (./run.sh --silos N), and give this command the same port variables"
  fi
  locate_silo $build_flag
  [[ -f "$(cluster_certificate)" ]] ||
    die "no cluster certificate at $(cluster_certificate): start the cluster first (./run.sh --silos N), and give this command the same DATA_DIR"
  write_pid "silo-$add_silo" "$$"
  info "silo-$add_silo: silo port $(silo_port "$add_silo"), gateway port $(gateway_port "$add_silo"), pid $$ ($(pid_file "silo-$add_silo")). Ctrl+C stops it gracefully."
  exec_silo "$add_silo"
fi

ensure_azurite

# --- Build first, so a compile error leaves nothing running ----------------------------------
if [[ -z "$no_build" ]]; then
  info "Building the API (Release)..."
  dotnet build Api/Api.csproj -c Release
fi
# Run the built dll directly instead of 'dotnet run': one process to signal, no launch profile
# overriding ASPNETCORE_URLS or the environment, and no second build.
api_dll="$(target_path Api/Api.csproj)"
[[ -f "$api_dll" ]] || die "no built API assembly at '$api_dll' (run without --no-build)"
if ((silos > 0)); then
  locate_silo $build_flag
  new_cluster_certificate
fi

# --- Stopping: one place, reached on Ctrl+C, SIGTERM, SIGHUP, the API exiting, or any error ---
azurite_pid=""
api_pid=""
silo_pids=() # index K: silo-K's pid, while this script counts it as running

# shellcheck disable=SC2317  # the stop functions and cleanup run from the EXIT trap
# signal_stop NAME PID: SIGTERM to the process group (Azurite and the silos lead their own) or
# else the process.
signal_stop() {
  local name="$1" pid="$2"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  info "Stopping $name (pid $pid)..."
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
# await_stop NAME PID GRACE_SECONDS: SIGKILL after the grace period, then reap it so nothing is
# left behind.
await_stop() {
  local name="$1" pid="$2" grace="$3" deadline
  [[ -n "$pid" ]] || return 0
  deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    info "$name did not stop within ${grace}s; killing it."
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # A process group can outlive its leader (a child it spawned); make sure none is left.
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
stop_process() {
  signal_stop "$1" "$2"
  await_stop "$@"
}

# shellcheck disable=SC2317
# Every silo of the cluster: those started here and those --add-silo started (by their PID
# files). All at once: each hands its grains to the ones still up or, the last, writes them out.
stop_silos() {
  local file name pid i names=() pids=()
  for file in "$DATA_DIR"/pids/silo-*.pid; do
    [[ -e "$file" ]] || continue
    name="$(basename "$file" .pid)"
    if pid="$(running_pid "$name" "$SILO_PROCESS_PATTERN")"; then
      names+=("$name")
      pids+=("$pid")
      signal_stop "$name" "$pid"
    fi
  done
  for i in "${!pids[@]}"; do
    await_stop "${names[$i]}" "${pids[$i]}" "$SILO_STOP_SECONDS"
  done
}

# shellcheck disable=SC2317
cleanup() {
  local rc=$?
  # Cleanup runs once; further Ctrl+C presses must not cut it short and leave Azurite behind. Nor
  # may a failed command: with the terminal closed (SIGHUP), every message to it fails.
  set +e
  trap '' INT TERM HUP PIPE
  # The API first, while storage (and the silos it is a client of) are still up for its
  # shutdown; then the silos; then Azurite.
  stop_process "the API" "$api_pid" "$API_STOP_SECONDS"
  if ((silos > 0)); then
    stop_silos
  fi
  stop_process "Azurite" "$azurite_pid" "$AZURITE_STOP_SECONDS"
  exit "$rc"
}
# Before the cleanup is armed: it would stop the silos whose PID files are in DATA_DIR, the other run's.
refuse_data_dir_in_use
trap cleanup EXIT
# The signal traps only set the exit status; the EXIT trap does the work.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# PID files of an earlier run are stale; a silo's would have stop_silos look at a reused number.
rm -rf "$DATA_DIR/pids"

# --- Azurite -------------------------------------------------------------------------------
mkdir -p "$DATA_DIR/azurite" "$DATA_DIR/logs"
info "Starting Azurite (blob $AZURITE_BLOB_PORT, queue $AZURITE_QUEUE_PORT, table $AZURITE_TABLE_PORT; data in $DATA_DIR/azurite, log in $DATA_DIR/logs/azurite.log)..."
# Job control on for this one job only: Azurite gets a process group of its own, so the SIGINT a
# terminal sends on Ctrl+C does not reach it. Storage stays up until the API has shut down, and
# stop_process can signal the whole group.
set -m
node "$AZURITE_MAIN" \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
  --blobPort "$AZURITE_BLOB_PORT" --queuePort "$AZURITE_QUEUE_PORT" --tablePort "$AZURITE_TABLE_PORT" \
  --location "$DATA_DIR/azurite" \
  --disableTelemetry --skipApiVersionCheck --silent </dev/null >"$DATA_DIR/logs/azurite.log" 2>&1 &
azurite_pid=$!
set +m
write_pid azurite "$azurite_pid"

if ! wait_for_port 127.0.0.1 "$AZURITE_TABLE_PORT" 60 "$azurite_pid"; then
  tail -n 20 "$DATA_DIR/logs/azurite.log" >&2
  die "Azurite did not start listening on 127.0.0.1:$AZURITE_TABLE_PORT (its log: $DATA_DIR/logs/azurite.log, the end of it above)"
fi

# --- The silos of a cluster ------------------------------------------------------------------
if ((silos > 0)); then
  mkdir -p "$DATA_DIR/logs"
  info "Starting $silos silos (logs in $DATA_DIR/logs/)..."
  for ((k = 1; k <= silos; k++)); do
    # Each in a process group of its own, like Azurite: Ctrl+C reaches the API alone, and the
    # silos stop after it. Output goes to a file: a terminal shows one process's log readably.
    set -m
    (exec_silo "$k") </dev/null >"$DATA_DIR/logs/silo-$k.log" 2>&1 &
    silo_pids[k]=$!
    set +m
    write_pid "silo-$k" "${silo_pids[k]}"
  done
  # The API, a client, finds the gateways in the membership table: wait until every silo serves one.
  for ((k = 1; k <= silos; k++)); do
    if ! wait_for_port 127.0.0.1 "$(gateway_port "$k")" 180 "${silo_pids[k]}"; then
      die "silo-$k did not open its gateway port $(gateway_port "$k"); see $DATA_DIR/logs/silo-$k.log"
    fi
  done
fi

# --- The API -------------------------------------------------------------------------------
base_url="$(browsable_url "${api_urls[0]}")"
cat <<EOF

  Live statistics page     $base_url/
  Orders API               $base_url/api/orders/{id}   (POST $base_url/api/orders to place one; see README)
  API reference (Scalar)   $base_url/scalar
  OpenAPI document         $base_url/openapi/v1.json
  Orleans Dashboard        $base_url/dashboard
  Health                   $base_url/health/live, $base_url/health/ready
  Azurite                  blob 127.0.0.1:$AZURITE_BLOB_PORT, queue 127.0.0.1:$AZURITE_QUEUE_PORT, table 127.0.0.1:$AZURITE_TABLE_PORT
  Data                     $DATA_DIR/
EOF
if ((silos > 0)); then
  printf '\n  Cluster                  %s silos on Azure Table clustering; the API is their client (no grains)\n' "$silos"
  for ((k = 1; k <= silos; k++)); do
    printf '    %-22s silo port %s, gateway port %s, pid %s, log %s\n' \
      "silo-$k" "$(silo_port "$k")" "$(gateway_port "$k")" "${silo_pids[k]}" "$DATA_DIR/logs/silo-$k.log"
  done
  cat <<EOF
  TLS                      mutual, every silo and the API with $(cluster_certificate) (made for this run)
  PID files                $DATA_DIR/pids/ (azurite, api, silo-1 ... silo-$silos)
  Kill a silo              kill -9 \$(cat $DATA_DIR/pids/silo-2.pid)   (it is not restarted)
  Start it again           ./run.sh --add-silo 2   (another terminal, the same port variables)
EOF
fi
printf '\n  Press Ctrl+C to stop.\n\n'

# The API stays in this script's process group (no job control), so it keeps the terminal's
# foreground: a .NET process in a background group is stopped (SIGTTOU) when it touches the
# terminal settings. Its working directory is the project folder, as with 'dotnet run', so the
# content root (appsettings*.json, wwwroot) is the project's.
if ((silos > 0)); then
  # A client of the cluster: it needs neither a silo nor a gateway port; it needs the cluster's
  # certificate, without which no gateway accepts it.
  api_settings=(Orleans__ApiHost=Client Orleans__Clustering=AzureTable Orleans__Tls__CertificatePath="$(cluster_certificate)")
else
  api_settings=(Orleans__SiloPort="$ORLEANS_SILO_PORT" Orleans__GatewayPort="$ORLEANS_GATEWAY_PORT")
fi
(
  cd Api
  exec env \
    ASPNETCORE_ENVIRONMENT=Development \
    ASPNETCORE_URLS="$ASPNETCORE_URLS" \
    ConnectionStrings__Tables="$(tables_connection)" \
    "${api_settings[@]}" \
    dotnet "$api_dll"
) &
api_pid=$!
write_pid api "$api_pid"

if ((silos > 0)); then
  # A silo that exits is reported, not restarted (in Azure the platform does that): the cluster
  # goes on while the API and Azurite run. Checked each second; 'sleep & wait' lets a signal's
  # trap run at once.
  while kill -0 "$api_pid" 2>/dev/null && kill -0 "$azurite_pid" 2>/dev/null; do
    for k in "${!silo_pids[@]}"; do
      if ! kill -0 "${silo_pids[k]}" 2>/dev/null; then
        wait "${silo_pids[k]}" && status=0 || status=$?
        info "silo-$k (pid ${silo_pids[k]}) exited with status $status; it is not restarted. Start it again with: ./run.sh --add-silo $k"
        unset 'silo_pids[k]'
      fi
    done
    sleep 1 &
    wait $! || true
  done
  if ! kill -0 "$azurite_pid" 2>/dev/null; then
    info "Azurite exited unexpectedly; stopping the cluster."
    exit 1
  fi
  wait "$api_pid" && status=0 || status=$?
  info "The API exited with status $status."
  exit "$status"
fi

# Wait until either process ends (or a signal arrives, which runs the traps). 'wait -n' needs
# bash 4.3 (macOS ships 3.2); there we can only wait for the API.
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 403)); then
  wait -n && status=0 || status=$?
else
  wait "$api_pid" && status=0 || status=$?
fi
if ! kill -0 "$azurite_pid" 2>/dev/null; then
  info "Azurite exited unexpectedly; stopping the API."
  exit 1
fi
info "The API exited with status $status."
exit "$status"
