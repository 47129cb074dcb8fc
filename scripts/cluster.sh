#!/usr/bin/env bash
# The local cluster of run.sh (--silos N, --add-silo K): which ports silo K uses, where PID files
# and logs go, and how a silo is started. Source it after lib.sh; do not run it.
#
# Expects these variables (run.sh sets them from the environment and its defaults):
#   AZURITE_BLOB_PORT AZURITE_QUEUE_PORT AZURITE_TABLE_PORT ORLEANS_SILO_PORT ORLEANS_GATEWAY_PORT DATA_DIR
#
# Defines:
#   silo_port K / gateway_port K   ports of silo K (1-based): ORLEANS_SILO_PORT + K - 1 and
#                                  ORLEANS_GATEWAY_PORT + K - 1 (docs: README "Cluster mode")
#   pid_file NAME                  $DATA_DIR/pids/NAME.pid (azurite, api, silo-1 ...)
#   write_pid NAME PID
#   running_pid NAME PATTERN       print the PID of NAME.pid when that process is alive and its
#                                  command line contains PATTERN (a PID file can outlive its
#                                  process, and the number be reused by another program)
#   tables_connection              the connection string of run.sh's Azurite (tables, queues, blobs)
#   locate_silo [--no-build]       build the Silo project (unless --no-build) and set SILO_DLL
#   cluster_certificate            the cluster's TLS certificate, $DATA_DIR/tls/cluster.pfx (absolute);
#                                  makes the folder 0700 and a PFX already there 0600
#   new_cluster_certificate        a fresh self-signed one for this run, made by the silo assembly
#   exec_silo K                    replace the current process by silo K, configured as README says

if [[ -n "${__ORDERFLOW_CLUSTER_SH:-}" ]]; then
  return 0
fi
__ORDERFLOW_CLUSTER_SH=1

# The end of the silo assembly's name, as it appears on its command line: how a PID file is
# recognised as a silo's.
SILO_PROCESS_PATTERN="Silo.dll"

silo_port() {
  printf '%s\n' "$((ORLEANS_SILO_PORT + $1 - 1))"
}

gateway_port() {
  printf '%s\n' "$((ORLEANS_GATEWAY_PORT + $1 - 1))"
}

pid_file() {
  printf '%s\n' "$DATA_DIR/pids/$1.pid"
}

write_pid() {
  mkdir -p "$DATA_DIR/pids"
  printf '%s\n' "$2" >"$(pid_file "$1")"
}

running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # /proc on Linux (a slim Debian has no ps); ps on macOS.
  local command_line
  if [[ -r "/proc/$pid/cmdline" ]]; then
    command_line="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  else
    command_line="$(ps -p "$pid" -o args= 2>/dev/null)"
  fi
  [[ "$command_line" == *"$2"* ]] || return 1
  printf '%s\n' "$pid"
}

tables_connection() {
  azurite_connection_string "$AZURITE_TABLE_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_BLOB_PORT"
}

locate_silo() {
  if [[ "${1:-}" != "--no-build" ]]; then
    info "Building the silo (Release)..."
    dotnet build "$REPO_ROOT/Silo/Silo.csproj" -c Release
  fi
  SILO_DLL="$(target_path "$REPO_ROOT/Silo/Silo.csproj")"
  [[ -f "$SILO_DLL" ]] || die "no built silo at '$SILO_DLL' (run once without --no-build)"
  [[ "$SILO_DLL" == *"$SILO_PROCESS_PATTERN" ]] || die "the silo assembly is '$SILO_DLL'; scripts/cluster.sh expects a name ending in $SILO_PROCESS_PATTERN"
}

# The folder and the PFX are the owner's only, also when an earlier run (or another umask) left
# them open: the PFX holds the cluster's private key, which is what admits a process to the cluster.
cluster_certificate() {
  local folder="$DATA_DIR/tls" file
  mkdir -p "$folder" && chmod 700 "$folder" || die "cannot make $folder private to its owner"
  file="$(cd "$folder" && pwd)/cluster.pfx"
  if [[ -f "$file" ]]; then
    chmod 600 "$file" || die "cannot make $file private to its owner"
  fi
  printf '%s\n' "$file"
}

# Every run of --silos gets its own certificate (README "Cluster mode", TLS); --add-silo uses the
# running cluster's. Needs SILO_DLL (locate_silo).
new_cluster_certificate() {
  dotnet "$SILO_DLL" --new-cluster-certificate "$(cluster_certificate)" >/dev/null ||
    die "could not make the cluster's TLS certificate at $(cluster_certificate)"
}

# One silo of the local cluster: Azure Table clustering on run.sh's Azurite, advertised on
# loopback (every process is on this machine), with the streams' default for a cluster (Azure
# Queue), and mutual TLS with the cluster's certificate (one given in Orleans__Tls__CertificatePath
# wins: a test's stranger). Settings already in the environment (Orleans__ClusterId, Logging__...)
# pass through; the working directory is the project folder, as for the API, so its content root
# is the project's.
exec_silo() {
  local index="$1" certificate
  certificate="${Orleans__Tls__CertificatePath:-$(cluster_certificate)}"
  cd "$REPO_ROOT/Silo" || exit 1
  exec env \
    Orleans__Tls__CertificatePath="$certificate" \
    ASPNETCORE_ENVIRONMENT=Development \
    DOTNET_ENVIRONMENT=Development \
    ConnectionStrings__Tables="$(tables_connection)" \
    Orleans__Clustering=AzureTable \
    Orleans__AdvertisedAddress=127.0.0.1 \
    Orleans__SiloPort="$(silo_port "$index")" \
    Orleans__GatewayPort="$(gateway_port "$index")" \
    dotnet "$SILO_DLL"
}
