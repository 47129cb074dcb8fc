#!/usr/bin/env bash
# Runs the whole system locally: Azurite (the Azure Storage emulator, from npm) and the API with
# its co-hosted Orleans silo. Data is kept under $DATA_DIR (default .data/), so it survives
# restarts; delete that folder for a clean slate. Ctrl+C stops everything.
#
# Settings (environment variables, all optional):
#   ASPNETCORE_URLS       where the API listens            (default http://localhost:5000)
#   AZURITE_BLOB_PORT     Azurite blob service port        (default 10000)
#   AZURITE_QUEUE_PORT    Azurite queue service port       (default 10001)
#   AZURITE_TABLE_PORT    Azurite table service port       (default 10002)
#   ORLEANS_SILO_PORT     silo-to-silo port                (default 11111)
#   ORLEANS_GATEWAY_PORT  client gateway port              (default 30000)
#   DATA_DIR              where local data is kept         (default .data, relative to the repo)
set -euo pipefail

# Work from the repository root whatever the caller's current directory is: every path below
# (node_modules, Api/, .data) is relative to it.
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

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

# --- Ports: refuse to start anything while one is taken, and say which -----------------------
IFS=';' read -r -a api_urls <<<"$ASPNETCORE_URLS"
port_names=()
port_numbers=()
add_port() {
  port_names+=("$1")
  port_numbers+=("$2")
}
add_port "Azurite blob (AZURITE_BLOB_PORT)" "$AZURITE_BLOB_PORT"
add_port "Azurite queue (AZURITE_QUEUE_PORT)" "$AZURITE_QUEUE_PORT"
add_port "Azurite table (AZURITE_TABLE_PORT)" "$AZURITE_TABLE_PORT"
add_port "Orleans silo (ORLEANS_SILO_PORT)" "$ORLEANS_SILO_PORT"
add_port "Orleans gateway (ORLEANS_GATEWAY_PORT)" "$ORLEANS_GATEWAY_PORT"
for url in "${api_urls[@]}"; do
  if [[ -n "$url" ]]; then
    add_port "API $url (ASPNETCORE_URLS)" "$(url_port "$url")"
  fi
done

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

ensure_azurite

# --- Build first, so a compile error leaves nothing running ----------------------------------
info "Building the API (Release)..."
dotnet build Api/Api.csproj -c Release
# Run the built dll directly instead of 'dotnet run': one process to signal, no launch profile
# overriding ASPNETCORE_URLS or the environment, and no second build.
api_dll="$(dotnet msbuild Api/Api.csproj -nologo -getProperty:TargetPath -p:Configuration=Release)"
[[ -f "$api_dll" ]] || die "the build did not produce the API assembly (expected '$api_dll')"

# --- Stopping: one place, reached on Ctrl+C, SIGTERM, SIGHUP, the API exiting, or any error ---
azurite_pid=""
api_pid=""

# shellcheck disable=SC2317  # stop_process and cleanup run from the EXIT trap
# stop_process NAME PID GRACE_SECONDS: SIGTERM to the process group (Azurite leads its own) or
# else the process, SIGKILL after the grace period, then reap it so nothing is left behind.
stop_process() {
  local name="$1" pid="$2" grace="$3" deadline
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    info "Stopping $name (pid $pid)..."
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      info "$name did not stop within ${grace}s; killing it."
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # A process group can outlive its leader (a child it spawned); make sure none is left.
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
cleanup() {
  local rc=$?
  # Cleanup runs once; further Ctrl+C presses must not cut it short and leave Azurite behind.
  trap '' INT TERM HUP
  # The API first, while storage is still up for its shutdown; then Azurite.
  stop_process "the API" "$api_pid" "$API_STOP_SECONDS"
  stop_process "Azurite" "$azurite_pid" "$AZURITE_STOP_SECONDS"
  exit "$rc"
}
trap cleanup EXIT
# The signal traps only set the exit status; the EXIT trap does the work.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- Azurite -------------------------------------------------------------------------------
mkdir -p "$DATA_DIR/azurite"
info "Starting Azurite (blob $AZURITE_BLOB_PORT, queue $AZURITE_QUEUE_PORT, table $AZURITE_TABLE_PORT; data in $DATA_DIR/azurite)..."
# Job control on for this one job only: Azurite gets a process group of its own, so the SIGINT a
# terminal sends on Ctrl+C does not reach it. Storage stays up until the API has shut down, and
# stop_process can signal the whole group.
set -m
node "$AZURITE_MAIN" \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
  --blobPort "$AZURITE_BLOB_PORT" --queuePort "$AZURITE_QUEUE_PORT" --tablePort "$AZURITE_TABLE_PORT" \
  --location "$DATA_DIR/azurite" \
  --disableTelemetry --skipApiVersionCheck --silent </dev/null &
azurite_pid=$!
set +m

if ! wait_for_port 127.0.0.1 "$AZURITE_TABLE_PORT" 60 "$azurite_pid"; then
  die "Azurite did not start listening on 127.0.0.1:$AZURITE_TABLE_PORT (see its output above)"
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

  Press Ctrl+C to stop.

EOF

# The well-known Azurite development account; it is public and only ever valid for the emulator.
azurite_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
tables_connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$azurite_key;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$AZURITE_QUEUE_PORT/devstoreaccount1;BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;"

# The API stays in this script's process group (no job control), so it keeps the terminal's
# foreground: a .NET process in a background group is stopped (SIGTTOU) when it touches the
# terminal settings. Its working directory is the project folder, as with 'dotnet run', so the
# content root (appsettings*.json, wwwroot) is the project's.
(
  cd Api
  exec env \
    ASPNETCORE_ENVIRONMENT=Development \
    ASPNETCORE_URLS="$ASPNETCORE_URLS" \
    ConnectionStrings__Tables="$tables_connection" \
    Orleans__SiloPort="$ORLEANS_SILO_PORT" \
    Orleans__GatewayPort="$ORLEANS_GATEWAY_PORT" \
    dotnet "$api_dll"
) &
api_pid=$!

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
