#!/usr/bin/env bash
# Shared helpers for run.sh and test.sh. Source it; do not run it.
#
#   source "scripts/lib.sh"
#
# Defines:
#   REPO_ROOT                 absolute path of the repository (this file's parent folder)
#   DOTNET_GCgen0size         exported: the GC's gen0 budget of every process started from here
#   info MSG... / die MSG...  messages on stderr; die exits 1
#   require_tools             dotnet, node and npm present, or say how to get them and exit 1
#   npm_ci REASON             npm ci (what package-lock.json pins), saying why; exits on failure
#   ensure_azurite            npm ci when a package of package.json (Azurite, and uPlot and
#                             esbuild for the live page) is not installed at its pinned version;
#                             then scripts/patch-azurite.js (Azurite finds rows by both keys)
#   azurite_connection_string TABLE_PORT [QUEUE_PORT [BLOB_PORT]]
#                             the connection string of an Azurite on 127.0.0.1 with those services
#   target_path PROJECT       the assembly a Release build of PROJECT (a .csproj) makes
#   free_port                 print a free TCP port on 127.0.0.1
#   port_is_free PORT         status 0 when nothing listens on PORT (any address)
#   wait_for_port HOST PORT TIMEOUT_SECONDS [PID]
#                             wait until HOST:PORT accepts connections; status 1 on timeout,
#                             or as soon as PID (the process that should listen) has exited
#
# Only bash and node are relied on (no python, ss or nc), so the scripts also work on a
# developer's machine that has nothing but the two SDKs.

# Guard against double sourcing: the functions are idempotent, but REPO_ROOT must stay stable.
if [[ -n "${__ORDERFLOW_LIB_SH:-}" ]]; then
  return 0
fi
__ORDERFLOW_LIB_SH=1

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The garbage collector's smallest gen0 budget, 64 MiB (hexadecimal, as the runtime reads it), for
# every process these scripts start, as the images set it (Api/Dockerfile, Silo/Dockerfile): a
# command allocates a few hundred KiB, and the default budget on a small machine collected dozens of
# times a second (README "Benchmarks"). The runtime reads it from the environment only.
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}"

# The Azurite entry points the scripts and the C# tests start. The tests look for the table
# server's main.js, so its presence is what "Azurite is installed" means.
AZURITE_TABLE_MAIN="node_modules/azurite/dist/src/table/main.js"
AZURITE_MAIN="node_modules/azurite/dist/src/azurite.js"

info() {
  printf '%s\n' "$*" >&2
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

require_tools() {
  local missing=()
  command -v dotnet >/dev/null 2>&1 || missing+=("dotnet: install the .NET 10 SDK from https://dot.net")
  command -v node >/dev/null 2>&1 || missing+=("node: install Node.js 20 or later from https://nodejs.org")
  command -v npm >/dev/null 2>&1 || missing+=("npm: it comes with Node.js 20 or later from https://nodejs.org")

  if ((${#missing[@]} == 0)); then
    # Present but too old fails later with far less helpful messages (an unknown target
    # framework, a syntax error in Azurite), so check the versions here too.
    if ! dotnet --list-sdks 2>/dev/null | grep -qE '^(1[0-9]|[2-9][0-9])\.'; then
      missing+=("dotnet: the .NET 10 SDK is not installed (found: $(dotnet --list-sdks 2>/dev/null | awk '{print $1}' | tr '\n' ' ')); get it from https://dot.net")
    fi
    local node_major
    node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
    if ((node_major < 20)); then
      missing+=("node: version 20 or later is needed (found $(node --version 2>/dev/null)); get it from https://nodejs.org")
    fi
  fi

  if ((${#missing[@]} > 0)); then
    info "Missing tools:"
    local m
    for m in "${missing[@]}"; do
      info "  - $m"
    done
    exit 1
  fi
}

# npm_ci REASON: installs exactly what package-lock.json pins (wiping node_modules), or exits.
npm_ci() {
  info "Installing the npm packages of package-lock.json with npm ci ($1)..."
  # Azurite declares Node 22 but runs on Node 20, where npm would print a screenful of harmless
  # EBADENGINE warnings: only errors are shown.
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed; see the output above"
  [[ -f "$REPO_ROOT/$AZURITE_TABLE_MAIN" ]] || die "npm ci finished but $AZURITE_TABLE_MAIN is missing"
}

ensure_azurite() {
  # npm ci installs exactly what package-lock.json pins, so every machine runs the same Azurite
  # and builds the live page with the same uPlot and esbuild. It runs only when a package of
  # package.json is missing or at another version than the lock file's: it wipes node_modules
  # and takes a while.
  local stale
  # shellcheck disable=SC2016  # ${...} below is JavaScript, not shell
  stale="$(cd "$REPO_ROOT" && node -e '
    const fs = require("fs");
    const version = (file) => { try { return JSON.parse(fs.readFileSync(file, "utf8")).version; } catch { return undefined; } };
    let lock = {};
    try { lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages || {}; } catch { }
    const wanted = Object.keys(require("./package.json").devDependencies || {});
    const stale = wanted.filter((name) => {
      const pinned = (lock["node_modules/" + name] || {}).version;
      return !pinned || version("node_modules/" + name + "/package.json") !== pinned;
    });
    process.stdout.write(stale.join(" "));' 2>/dev/null || echo "?")"
  if [[ -n "$stale" || ! -f "$REPO_ROOT/$AZURITE_TABLE_MAIN" || ! -f "$REPO_ROOT/$AZURITE_MAIN" ]]; then
    npm_ci "${stale:-azurite} missing or outdated"
  fi
  # Azurite's table store then finds rows by both keys, as Azure does (the script says why).
  local status=0
  node "$REPO_ROOT/scripts/patch-azurite.js" "$REPO_ROOT/node_modules" || status=$?
  if ((status == 3)); then
    npm_ci "Azurite patched by an earlier revision of scripts/patch-azurite.js, which kept no copy of it as installed"
    status=0
    node "$REPO_ROOT/scripts/patch-azurite.js" "$REPO_ROOT/node_modules" || status=$?
  fi
  ((status == 0)) || die "scripts/patch-azurite.js could not patch Azurite or LokiJS (another version of either?); see above"
}

azurite_connection_string() {
  # The well-known Azurite development account; it is public and only ever valid for the emulator.
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  local account="devstoreaccount1"
  local text="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;TableEndpoint=http://127.0.0.1:$1/$account;"
  if [[ -n "${2:-}" ]]; then
    text+="QueueEndpoint=http://127.0.0.1:$2/$account;"
  fi
  if [[ -n "${3:-}" ]]; then
    text+="BlobEndpoint=http://127.0.0.1:$3/$account;"
  fi
  printf '%s\n' "$text"
}

target_path() {
  dotnet msbuild "$1" -nologo -getProperty:TargetPath -p:Configuration=Release
}

free_port() {
  # Let the kernel pick: listen on port 0, report the port, release it. Another process could
  # take it before the caller does, which is acceptable for local runs and tests.
  node -e '
    const s = require("net").createServer();
    s.on("error", (e) => { console.error(e.message); process.exit(1); });
    s.listen(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => process.stdout.write(port + "\n"));
    });'
}

port_is_free() {
  # A bind test rather than a connect test: it also sees ports held on another address
  # (0.0.0.0, ::1, a LAN address) and ports a server holds without answering yet.
  # "::" is dual-stack on Linux and macOS, so it clashes with IPv4 holders too; where IPv6
  # is off we fall back to 0.0.0.0.
  local port="$1"
  node -e '
    const net = require("net");
    const port = Number(process.argv[1]);
    const attempt = (hosts) => {
      const host = hosts.shift();
      const s = net.createServer();
      s.once("error", (e) => {
        if ((e.code === "EAFNOSUPPORT" || e.code === "EADDRNOTAVAIL") && hosts.length > 0) {
          return attempt(hosts);
        }
        process.exit(1); // EADDRINUSE, or EACCES for a privileged port: either way not usable
      });
      s.listen({ port, host, exclusive: true }, () => s.close(() => process.exit(0)));
    };
    attempt(["::", "0.0.0.0"]);' "$port"
}

wait_for_port() {
  local host="$1" port="$2" timeout="$3" pid="${4:-}"
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    # bash's /dev/tcp needs no extra tool; on loopback a refused connect returns at once.
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.2
  done
  return 1
}
