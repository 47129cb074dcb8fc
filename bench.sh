#!/usr/bin/env bash
# The benchmark harness: starts a private Azurite (in memory, on a free port), builds Release and
# runs benchmarks/OrderFlow.Benchmarks, which measures a storage baseline first and then the
# system through its HTTP API, and prints every figure with its ratio to the baseline.
#
# Settings (environment variables, all optional):
#   BENCH_ORDERS        orders per scenario                 (default 600)
#   BENCH_CONCURRENCY   requests in flight at once          (default 16)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

require_tools
ensure_azurite

info "Building the benchmarks (Release)..."
dotnet build benchmarks/OrderFlow.Benchmarks/OrderFlow.Benchmarks.csproj -c Release
bench_dll="$(dotnet msbuild benchmarks/OrderFlow.Benchmarks/OrderFlow.Benchmarks.csproj -nologo -getProperty:TargetPath -p:Configuration=Release)"

table_port="$(free_port)"
azurite_pid=""
# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
  if [[ -n "$azurite_pid" ]]; then
    kill -TERM "$azurite_pid" 2>/dev/null || true
    wait "$azurite_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

info "Starting Azurite (table service, in memory) on 127.0.0.1:$table_port..."
node "$AZURITE_TABLE_MAIN" --tableHost 127.0.0.1 --tablePort "$table_port" \
  --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --silent </dev/null &
azurite_pid=$!
wait_for_port 127.0.0.1 "$table_port" 60 "$azurite_pid" || die "Azurite did not start on 127.0.0.1:$table_port"

# The well-known Azurite development account key: public, valid only for the emulator.
azurite_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export BENCH_TABLES="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$azurite_key;TableEndpoint=http://127.0.0.1:$table_port/devstoreaccount1;"
dotnet "$bench_dll"
