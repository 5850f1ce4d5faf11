#!/bin/sh
# The full benchmark (make bench): qlik-reload-bench with the issue's sizes
# and modes, its report and CSV in BUILD/bench, the plot in
# docs/benchmarks.png. Extra arguments go to qlik-reload-bench.
#   bench/run_bench.sh BUILD [qlik-reload-bench arguments]
# Exit status: qlik-reload-bench's (1 when an invariant did not hold).
set -u
build=${1:?usage: bench/run_bench.sh BUILD [arguments]}
shift
here=$(cd "$(dirname "$0")" && pwd)
out="$build/bench"
mkdir -p "$out"
echo "bench: load average before: $(cat /proc/loadavg)"
"$build/bin/qlik-reload-bench" --work-dir "$out" --csv "$out/results.csv" --report "$out/report.md" "$@"
status=$?
if [ -s "$out/results.csv" ]; then
  gnuplot -e "datafile='$out/results.csv'; outfile='$here/../docs/benchmarks.png'" "$here/plot.gnuplot" &&
    echo "bench: plot written to docs/benchmarks.png; report in $out/report.md"
fi
echo "bench: load average after: $(cat /proc/loadavg)"
exit $status
