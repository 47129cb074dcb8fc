#!/usr/bin/env bash
# The benchmark harness: starts a private Azurite (in memory, on a free port), builds Release and
# runs benchmarks/OrderFlow.Benchmarks, which measures a storage baseline first and then the
# system through its HTTP API, and prints every figure with its ratio to the baseline.
#
#   ./bench.sh             the API with its co-hosted silo, in the benchmark's process
#   ./bench.sh --quick     smaller counts and shorter scenarios (under 3 minutes; CI runs it)
#   ./bench.sh --sustained 10m
#                          adds a sustained run at 80 % of the maximum rate, with the statistics'
#                          lag and the resident memory per minute (a duration: 90s, 10m, 1h)
#   ./bench.sh --silos N   that first, then the same scenarios against a cluster of N silo
#                          processes with the API as their client, started by run.sh --silos N
#                          (on free ports, data in a temporary folder), and the ratio of each
#                          figure to the single process's
#
# Every figure also goes to artifacts/bench/results.json (name -> { value, unit }), and the issue's
# goals are printed last, each with this run's figure beside it.
#
# Settings (environment variables, all optional):
#   BENCH_ORDERS        orders per scenario                 (default 600, 150 with --quick)
#   BENCH_CONCURRENCY   requests in flight at once          (default 16; 64 is measured as well)
#   BENCH_LAG_RATE      offered commands/s of the fixed-rate statistics lag scenario (default 50)
#   BENCH_LAG_SECONDS   length of each statistics lag scenario (default 30, 6 with --quick)
#   BENCH_SUSTAINED_RATE  offered commands/s of the sustained run (default 80 % of the maximum measured)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

silos=0
silos_given=""
sustained=""
export BENCH_QUICK=0
while (($# > 0)); do
  case "$1" in
    --silos) silos="${2:-}"; silos_given=1; shift 2 || die "--silos takes a number" ;;
    --silos=*) silos="${1#*=}"; silos_given=1; shift ;;
    --quick) BENCH_QUICK=1; shift ;;
    --sustained) sustained="${2:-}"; shift 2 || die "--sustained takes a duration (90s, 10m, 1h)" ;;
    --sustained=*) sustained="${1#*=}"; shift ;;
    *) die "unknown argument '$1' (./bench.sh [--quick] [--sustained DURATION] [--silos N])" ;;
  esac
done
if [[ -n "$sustained" ]]; then
  [[ "$sustained" =~ ^([1-9][0-9]*)([smh]?)$ ]] || die "--sustained takes a duration such as 90s, 10m or 1h; got '$sustained'"
  case "${BASH_REMATCH[2]}" in
    m) BENCH_SUSTAINED_SECONDS=$((BASH_REMATCH[1] * 60)) ;;
    h) BENCH_SUSTAINED_SECONDS=$((BASH_REMATCH[1] * 3600)) ;;
    *) BENCH_SUSTAINED_SECONDS=$((BASH_REMATCH[1])) ;;
  esac
  export BENCH_SUSTAINED_SECONDS
fi
export BENCH_RESULTS_JSON="${BENCH_RESULTS_JSON:-$PWD/artifacts/bench/results.json}"
rm -f "$BENCH_RESULTS_JSON"
# Decimal numbers only, as run.sh: bash arithmetic reads "08" as octal (an error).
if [[ -n "$silos_given" ]] && { ! [[ "$silos" =~ ^[1-9][0-9]*$ ]] || ((silos < 2)); }; then
  die "--silos takes a number of silos, 2 or more; got '$silos'"
fi

require_tools
ensure_azurite

info "Building the benchmarks (Release)..."
dotnet build benchmarks/OrderFlow.Benchmarks/OrderFlow.Benchmarks.csproj -c Release
if ((silos > 0)); then
  info "Building the silo (Release)..."
  dotnet build Silo/Silo.csproj -c Release
fi
bench_dll="$(target_path benchmarks/OrderFlow.Benchmarks/OrderFlow.Benchmarks.csproj)"

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/orderflow-bench.XXXXXX")"
azurite_pid=""
cluster_pid=""
# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
  local pid
  for pid in "$cluster_pid" "$azurite_pid"; do
    if [[ -n "$pid" ]]; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work_dir"
}
trap cleanup EXIT

table_port="$(free_port)"
info "Starting Azurite (table service, in memory) on 127.0.0.1:$table_port..."
node "$AZURITE_TABLE_MAIN" --tableHost 127.0.0.1 --tablePort "$table_port" \
  --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --silent </dev/null &
azurite_pid=$!
wait_for_port 127.0.0.1 "$table_port" 60 "$azurite_pid" || die "Azurite did not start on 127.0.0.1:$table_port"

export BENCH_TABLES
BENCH_TABLES="$(azurite_connection_string "$table_port")"
# Where each scenario's processor time goes: this Azurite's share beside the benchmark process's.
export BENCH_AZURITE_PID="$azurite_pid"
if ((silos == 0)); then
  dotnet "$bench_dll"
  exit
fi

BENCH_RESULTS="$work_dir/single.json" dotnet "$bench_dll"
# The cluster gets the machine to itself.
kill -TERM "$azurite_pid" 2>/dev/null || true
wait "$azurite_pid" 2>/dev/null || true
azurite_pid=""

# --- The same scenarios against run.sh's cluster ---------------------------------------------
# The first of COUNT consecutive free ports (silo K uses base + K - 1), clear of the range that
# starts at AVOID. Drawn below 32768, out of the kernel's ephemeral range (Linux 32768-60999,
# macOS 49152-65535) where free_port's ports and every client socket's come from.
free_port_range() {
  local count="$1" avoid="${2:-}" base attempt k ok
  for ((attempt = 0; attempt < 200; attempt++)); do
    base=$((20000 + RANDOM % (12000 - count)))
    if [[ -n "$avoid" ]] && ((base + count > avoid && avoid + count > base)); then
      continue
    fi
    ok=1
    for ((k = 0; k < count; k++)); do
      if ! port_is_free "$((base + k))"; then
        ok=0
        break
      fi
    done
    if ((ok)); then
      printf '%s\n' "$base"
      return 0
    fi
  done
  die "found no $count consecutive free ports between 20000 and 32000"
}

api_port="$(free_port)"
cluster_tables="$(free_port)"
silo_base="$(free_port_range "$silos")"
gateway_base="$(free_port_range "$silos" "$silo_base")"
info "Starting a cluster of $silos silos with ./run.sh --silos $silos (its output: $work_dir/run.log)..."
ASPNETCORE_URLS="http://127.0.0.1:$api_port" \
  AZURITE_TABLE_PORT="$cluster_tables" AZURITE_QUEUE_PORT="$(free_port)" AZURITE_BLOB_PORT="$(free_port)" \
  ORLEANS_SILO_PORT="$silo_base" ORLEANS_GATEWAY_PORT="$gateway_base" DATA_DIR="$work_dir/cluster" \
  Dashboard__Enabled=false Logging__LogLevel__Default=Warning \
  ./run.sh --silos "$silos" --no-build >"$work_dir/run.log" 2>&1 &
cluster_pid=$!

ready=0
for ((attempt = 0; attempt < 600; attempt++)); do
  kill -0 "$cluster_pid" 2>/dev/null || break
  if node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
    "http://127.0.0.1:$api_port/health/ready"; then
    ready=1
    break
  fi
  sleep 0.5
done
if ((!ready)); then
  cat "$work_dir/run.log" >&2
  die "the cluster did not become ready (its output is above)"
fi

BENCH_TABLES="$(azurite_connection_string "$cluster_tables")" BENCH_API_URL="http://127.0.0.1:$api_port" BENCH_AZURITE_PID="" \
  BENCH_RESULTS="$work_dir/cluster.json" BENCH_RESULTS_JSON="${BENCH_RESULTS_JSON%.json}-silos$silos.json" \
  dotnet "$bench_dll" || cluster_status=$?

# Each figure of the cluster run against the single process's.
# shellcheck disable=SC2016  # ${...} below is JavaScript, not shell
node -e '
  const fs = require("fs");
  const [single, cluster] = process.argv.slice(1, 3).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const silos = process.argv[3], cores = require("os").cpus().length;
  const byName = new Map(single.scenarios.map((s) => [s.name, s]));
  // Each run measures its own storage baseline first (the first scenario): the cluster runs on
  // the Azurite of run.sh, which keeps its data on disk; the last column divides that out.
  const base = (run) => run.scenarios[0].perSecond;
  console.log(`\n| scenario | single process per second | ${silos} silos per second | ratio | ratio, each to its own storage baseline |`);
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const row = (name, s, c, sb, cb) =>
    console.log(`| ${name} | ${s.toFixed(0)} | ${c.toFixed(0)} | ${(c / s).toFixed(2)} | ${((c / cb) / (s / sb)).toFixed(2)} |`);
  for (const c of cluster.scenarios) {
    const s = byName.get(c.name);
    if (s) row(c.name, s.perSecond, c.perSecond, base(single), base(cluster));
  }
  row("rebuild (events)", single.rebuildEventsPerSecond, cluster.rebuildEventsPerSecond, base(single), base(cluster));
  const seconds = (x) => (x == null ? "never" : x.toFixed(1) + " s");
  console.log(`\nStatistics counted every event ${seconds(single.convergenceSeconds)} (single process) and ${seconds(cluster.convergenceSeconds)} (${silos} silos) after the last command.`);
  console.log(`On this machine (${cores} cores) the ${silos} silos, the API and Azurite share the same cores: the ratio is the`);
  console.log("overhead of the cluster (a network hop from the API to a gateway and often on to another silo,");
  console.log("Azure Queue streams instead of memory ones), not a speed-up. Silos on machines of their own add capacity.");
' "$work_dir/single.json" "$work_dir/cluster.json" "$silos"
exit "${cluster_status:-0}"
