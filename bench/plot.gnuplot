# The benchmark's plot: QRS requests per simulated second at steady state,
# and completion-detection latency p99, against the number of concurrent
# reloads, one line per way of following them.
#   gnuplot -e "datafile='build/bench/results.csv'; outfile='docs/benchmarks.png'" bench/plot.gnuplot
# datafile is qlik-reload-bench's CSV (column names in its first line).
if (!exists("datafile")) datafile = 'build/bench/results.csv'
if (!exists("outfile")) outfile = 'docs/benchmarks.png'

set datafile separator ","
set datafile missing "NaN"
set terminal pngcairo size 1400,560 font ",11"
set output outfile
set multiplot layout 1,2 title "qlik-reload-bench: the worker against naive per-reload polling (qrs-sim, run times 45-75 s simulated)"
set logscale xy
set grid
set key top left
set xlabel "concurrent reloads (N)"
set xrange [0.7:7000]

# Column names: mode(1) n(2) requests_per_sim_s(14) latency_p99_ms(20).
only(m, c) = (strcol(1) eq m ? column(c) : NaN)
positive(v) = (v > 0 ? v : NaN)

set title "QRS requests per simulated second, steady state"
set ylabel "requests / s"
plot datafile skip 1 using 2:(positive(only("naive-1s", 14))) with linespoints lw 2 pt 7 title "naive, poll each reload every 1 s", \
     ''       skip 1 using 2:(positive(only("naive-30s", 14))) with linespoints lw 2 pt 5 title "naive, every 30 s", \
     ''       skip 1 using 2:(positive(only("worker-poll", 14))) with linespoints lw 2 pt 9 title "worker, polling (batched)", \
     ''       skip 1 using 2:(positive(only("worker-push", 14))) with linespoints lw 2 pt 11 title "worker, push configured"

set title "completion-detection latency p99"
set ylabel "ms (simulated time; active push: real time)"
plot datafile skip 1 using 2:(positive(only("naive-1s", 20))) with linespoints lw 2 pt 7 title "naive 1 s", \
     ''       skip 1 using 2:(positive(only("naive-30s", 20))) with linespoints lw 2 pt 5 title "naive 30 s", \
     ''       skip 1 using 2:(positive(only("worker-poll", 20))) with linespoints lw 2 pt 9 title "worker, polling (cap 5 s)", \
     ''       skip 1 using 2:(positive(only("worker-push", 20))) with linespoints lw 2 pt 11 title "worker, push configured"
unset multiplot
