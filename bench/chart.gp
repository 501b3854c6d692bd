# chart.gp: draws results.png from the data file report.awk writes.
# Called by run.sh: gnuplot -e "datafile='...'; outfile='...'; ncols=N" chart.gp
# Three panels, one group of bars per scenario, one bar per server, each the
# ratio to uv_echo (raw libuv = 1, the dashed line). Bars grow from 1 up or
# down on a log scale, so 2x and 0.5x are equally far from the line.

set terminal pngcairo noenhanced size 1400,1500 font "sans,11"
set output outfile
set datafile missing "?"
set key autotitle columnhead
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black" front
set style fill solid 0.85 border -1
set logscale y 2
set yrange [* < 0.5 : 2 < *]
set grid ytics lc rgb "#dddddd"
set key outside right top vertical
set xtics nomirror scale 0
set ytics nomirror
set format y "%g"
set offsets 0.5, 0.5, 0, 0
set linetype 1 lc rgb "#1b9e77"
set linetype 2 lc rgb "#d95f02"
set linetype 3 lc rgb "#7570b3"
set linetype 4 lc rgb "#e7298a"
set linetype 5 lc rgb "#66a61e"
set linetype 6 lc rgb "#e6ab02"

# Bar i of a group sits at x = group + off(i); it spans from 1 to the ratio.
w = 0.8 / ncols
off(i) = (i - 2 - (ncols - 1) / 2.0) * w
lo(v) = v < 1 ? v : 1
hi(v) = v < 1 ? 1 : v
tag(v) = v < 1 ? v / 1.08 : v * 1.08   # where the value label goes

set multiplot layout 3,1 title "Echo servers as a ratio to raw libuv (uv_echo = 1; median of the repetitions)" font "sans,14"

set title "Throughput (msgs/s, MB/s, conns/s): higher is better"
set ylabel "x uv_echo"
plot for [i=2:ncols+1] datafile index 0 using ($0 + off(i)):(column(i)):($0 + off(i) - w / 2):($0 + off(i) + w / 2):(lo(column(i))):(hi(column(i))) with boxxyerror lt i-1 title columnheader(i), \
     for [i=2:ncols+1] datafile index 0 using ($0 + off(i)):(tag(column(i))):(sprintf("%.2f", column(i))) with labels font ",8" notitle, \
     datafile index 0 using 0:(1):xtic(1) with dots lc rgb "black" notitle

set title "Server CPU time per message or connection, and idle RSS per connection: lower is better"
plot for [i=2:ncols+1] datafile index 1 using ($0 + off(i)):(column(i)):($0 + off(i) - w / 2):($0 + off(i) + w / 2):(lo(column(i))):(hi(column(i))) with boxxyerror lt i-1 title columnheader(i), \
     for [i=2:ncols+1] datafile index 1 using ($0 + off(i)):(tag(column(i))):(sprintf("%.2f", column(i))) with labels font ",8" notitle, \
     datafile index 1 using 0:(1):xtic(1) with dots lc rgb "black" notitle

set title "p99 latency: lower is better"
plot for [i=2:ncols+1] datafile index 2 using ($0 + off(i)):(column(i)):($0 + off(i) - w / 2):($0 + off(i) + w / 2):(lo(column(i))):(hi(column(i))) with boxxyerror lt i-1 title columnheader(i), \
     for [i=2:ncols+1] datafile index 2 using ($0 + off(i)):(tag(column(i))):(sprintf("%.2f", column(i))) with labels font ",8" notitle, \
     datafile index 2 using 0:(1):xtic(1) with dots lc rgb "black" notitle

unset multiplot
