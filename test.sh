#!/usr/bin/env bash
# Builds the solution once and runs every test in it, then prints one closing line:
#   N passed, N failed            (or  N passed, N failed, N skipped  when tests were skipped)
# It exits non-zero when a test failed, when dotnet test failed, or when no test ran.
#
# tests/Cluster.Tests (real processes, with time bounds) runs last, on its own, once the rest of
# the solution has finished, so other test projects do not share the cores with it.
#
# Extra arguments go to both 'dotnet test' runs, e.g.  ./test.sh --filter "FullyQualifiedName~Orders"
#
# Settings (environment variables, all optional):
#   RESULTS_DIR         where the .trx result files are gathered,    (default TestResults)
#                       with the screenshots the browser tests take
#   TEST_HANG_TIMEOUT   a single test running longer than this is    (default 15m)
#                       reported and its test host stopped, so a hang cannot eat CI's time
set -euo pipefail

# Work from the repository root whatever the caller's current directory is.
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RESULTS_DIR="${RESULTS_DIR:-TestResults}"
TEST_HANG_TIMEOUT="${TEST_HANG_TIMEOUT:-15m}"

require_tools
# The C# tests start their own Azurite instances (on free ports) from node_modules, so Azurite
# only has to be installed here, not started.
ensure_azurite

# Results of an earlier run must not be counted again. Each test project writes its .trx file to
# its own TestResults/ folder (see below), so wipe those as well as the gathering folder.
# node_modules, .git and .data are skipped: nothing of ours is in there.
wipe_results() {
  local dir
  while IFS= read -r -d '' dir; do
    rm -rf "$dir"
  done < <(find . \( -path ./node_modules -o -path ./.git -o -path ./.data \) -prune -o \
    -type d -name TestResults -prune -print0)
  rm -rf "$RESULTS_DIR"
  mkdir -p "$RESULTS_DIR"
}
wipe_results
# Files tests keep for people to look at (the live page's screenshots) go next to the .trx files.
TEST_ARTIFACTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
export TEST_ARTIFACTS_DIR

info "Building Orleans.sln (Release)..."
dotnet build Orleans.sln -c Release

# Why no --results-directory: with one shared folder, every test project names its file
# results_<framework>_<yyyyMMddHHmmss>.trx, and two projects that finish within the same second
# overwrite each other's file, losing their counts (seen with small projects). Left at the
# default, each project writes to <its folder>/TestResults/, so names never clash; the files are
# gathered into $RESULTS_DIR afterwards.
# --blame-hang-timeout: a deadlocked test otherwise hangs the run until CI's limit with no hint
# of which test it was; this names the test and stops its host (counted as a failure). Its
# collector adds a harmless "Sequence file will not be generated" line per project.
# --tl:off: the same plain output in a terminal as in CI (the terminal logger repeats every line).
# run_tests PROJECT_OR_SOLUTION [ARGS...]: dotnet test with the options above; sets test_status
# when it fails.
test_status=0
run_tests() {
  local target="$1" status=0
  shift
  dotnet test "$target" -c Release --no-build --tl:off \
    --logger "trx;LogFilePrefix=results" \
    --logger "console;verbosity=normal" \
    --blame-hang-timeout "$TEST_HANG_TIMEOUT" --blame-hang-dump-type none \
    "$@" || status=$?
  if ((status != 0)); then
    info "dotnet test $target exited with status $status."
    test_status=$status
  fi
}
info "Running the tests (all but tests/Cluster.Tests)..."
run_tests Orleans.sln -p:ExcludeClusterTests=true "$@"
info "Running tests/Cluster.Tests on its own..."
run_tests tests/Cluster.Tests/Cluster.Tests.csproj "$@"

# Gather the .trx files: <project folder>/TestResults/x.trx -> $RESULTS_DIR/<project path>_x.trx
# (the project's path, slashes made underscores, keeps the names unique and readable).
trx_files=()
while IFS= read -r -d '' trx; do
  rel="${trx#./}"
  project="${rel%%/TestResults/*}"
  target="$RESULTS_DIR/${project//\//_}_$(basename "$trx")"
  cp "$trx" "$target"
  trx_files+=("$target")
done < <(find . \( -path ./node_modules -o -path ./.git -o -path ./.data -o -path "./${RESULTS_DIR#./}" \) -prune -o \
  -type f -path '*/TestResults/*.trx' -print0)

# Sum the <Counters> of every file's <ResultSummary>. Node is used because it is here anyway and,
# unlike grep/sed, it does not care about attribute order or line breaks in the XML.
#   failed  = failed + error + timeout + aborted   (all of them are tests that did not pass)
#   skipped = total - executed                     (xunit's skipped tests are counted there;
#                                                   notExecuted is used if it is ever larger)
# A run that was aborted (its test host crashed, or was stopped by the hang timeout) has outcome
# "Failed" with no failed test in its counters; it counts as one failure, so the closing line
# agrees with the exit status, and its run-level error is printed.
# Prints one line per file, then "SUM passed failed skipped executed".
count_trx() {
  # shellcheck disable=SC2016  # ${...} below is JavaScript, not shell
  node -e '
    const fs = require("fs");
    const sum = { passed: 0, failed: 0, skipped: 0, executed: 0 };
    for (const file of process.argv.slice(1)) {
      const xml = fs.readFileSync(file, "utf8");
      const summary = /<ResultSummary\b[\s\S]*?<Counters\b([^>]*)>/.exec(xml);
      if (!summary) {
        console.log(`  ${file}: no <ResultSummary><Counters> found, the run did not finish`);
        sum.failed += 1; // an unreadable result must not pass as green
        continue;
      }
      const c = {};
      for (const m of summary[1].matchAll(/(\w+)\s*=\s*"(\d+)"/g)) c[m[1]] = Number(m[2]);
      const n = (k) => c[k] || 0;
      let failed = n("failed") + n("error") + n("timeout") + n("aborted");
      const skipped = Math.max(n("total") - n("executed"), n("notExecuted"), 0);
      const outcome = (/<ResultSummary\b[^>]*\boutcome="([^"]*)"/.exec(xml) || [])[1] || "";
      let note = "";
      if (failed === 0 && !["Completed", "Passed", "Warning"].includes(outcome)) {
        failed = 1;
        const errors = [...xml.matchAll(/<RunInfo\b[^>]*\boutcome="Error"[^>]*>\s*<Text>([\s\S]*?)<\/Text>/g)]
          .map((m) => m[1].trim().split("\n")[0]);
        note = ` (run outcome ${outcome || "unknown"}: ${errors.join("; ") || "no reason given"})`;
      }
      console.log(`  ${file}: total ${n("total")}, executed ${n("executed")}, passed ${n("passed")}, failed ${failed}, skipped ${skipped}${note}`);
      // Name each test that did not pass, with the first line of its message, so a failure in
      // the log of CI (of which only the end may be shown) says which test it was and why.
      // A result is one self-closing element, or holds its output and, if it failed, its message.
      const text = (s) => s.replace(/&quot;/g, "\"").replace(/&apos;/g, "\x27").replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
      for (const m of xml.matchAll(/<UnitTestResult\b([^>]*?)(?:\/>|>([\s\S]*?)<\/UnitTestResult>)/g)) {
        const attribute = (name) => text((new RegExp(`\\b${name}="([^"]*)"`).exec(m[1]) || [])[1] || "");
        if (["Passed", "NotExecuted"].includes(attribute("outcome"))) continue;
        const message = text((/<Message>([\s\S]*?)<\/Message>/.exec(m[2] || "") || [])[1] || "");
        // The first line, then up to 40 more (a convergence failure lists its differences there),
        // marked "    | " so that .ci/run can repeat them beside its closing line.
        const lines = message.trim().split(/\r?\n/).map((line) => line.slice(0, 300));
        console.log(`  FAILED: ${attribute("testName")} (${attribute("outcome")}) ${lines[0]}`);
        for (const line of lines.slice(1, 41)) console.log(`    | ${line}`);
        if (lines.length > 41) console.log(`    | (${lines.length - 41} more lines in the .trx file)`);
      }
      sum.passed += n("passed");
      sum.failed += failed;
      sum.skipped += skipped;
      sum.executed += n("executed");
    }
    console.log(`SUM ${sum.passed} ${sum.failed} ${sum.skipped} ${sum.executed}`);
  ' "$@"
}

passed=0 failed=0 skipped=0 executed=0
if ((${#trx_files[@]} > 0)); then
  counts="$(count_trx "${trx_files[@]}")"
  info ""
  info "Test results (${#trx_files[@]} file(s) in $RESULTS_DIR):"
  info "$(grep -v '^SUM ' <<<"$counts")"
  read -r _ passed failed skipped executed < <(grep '^SUM ' <<<"$counts")
fi

exit_status=0
if ((test_status != 0)); then
  exit_status=1
fi
if ((failed > 0)); then
  exit_status=1
fi
if ((executed == 0)); then
  info "No test ran (no test project found, the filter matched nothing, or no results were written)."
  exit_status=1
fi

# The closing line, last on purpose: CI reads it.
if ((skipped > 0)); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$exit_status"
