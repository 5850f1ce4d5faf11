#!/bin/bash
# Runs the CTest suite of a sanitizer build (-DQLIK_RELOAD_SANITIZE=ON) and
# fails when any sanitizer reported anything, in any process.
#
#   tests/sanitizers/ctest_sanitized.sh BUILD_DIR [CTEST_ARGS...]
#
# The options below are exported, so every process the tests start (qrs-sim,
# the worker and the CLI, all from the same sanitized build) runs with them.
# A report can come from a child whose exit code no test looks at (a leak
# found when a worker exits at the end of a test), so the exit codes alone
# are not enough. After the run this script fails when
#   * BUILD_DIR/sanitizer-reports/ holds a report: ASan and LSan write there
#     (log_path), one file per reporting process;
#   * a captured output shows a sanitizer's report: the children's stderr
#     under BUILD_DIR/test-tmp and the test programs' own output in CTest's
#     log. With gcc, UBSan combined with ASan prints to stderr whatever
#     log_path says, and -fno-sanitize-recover makes it exit 1 at once.
# Leak checking is on; the whole suite (Poco, Thrift, OpenSSL included) ran
# without a leak report, so there is no suppressions file. Should a
# third-party leak appear, add it to tests/sanitizers/lsan.supp with a comment
# saying whose code it is; that file is used when it exists.
set -u

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [CTEST_ARGS...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
reports=$build/sanitizer-reports

rm -rf "$reports"
mkdir -p "$reports"
# Outputs of earlier runs would be searched too; start afresh.
find "$build/test-tmp" -mindepth 1 -delete 2>/dev/null || true

export ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=1:print_stacktrace=1"
if [ -f "$here/lsan.supp" ]; then
  export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
fi

ctest --test-dir "$build" "$@"
status=$?

found=0
if [ -n "$(ls -A "$reports")" ]; then
  found=1
  echo "sanitizer reports in $reports:"
  for report in "$reports"/*; do
    echo "==== $report"
    head -n 80 "$report"
  done
fi
pattern='ERROR: (Address|Leak|Thread|Memory)Sanitizer|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer|: runtime error: '
outputs=$(grep -rlEI "$pattern" "$build/test-tmp" "$build/Testing/Temporary" 2>/dev/null)
if [ -n "$outputs" ]; then
  found=1
  echo "sanitizer output in the tests' captured outputs:"
  # shellcheck disable=SC2086  # one file name per line, none with spaces
  grep -HnEI "$pattern" $outputs | head -n 60
fi
if [ $found -eq 0 ]; then
  echo "sanitizers: no report from any process"
else
  status=1
fi
exit $status
