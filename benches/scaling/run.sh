#!/usr/bin/env bash
# Scaling benchmark: `cloudtwin bench` at 10k, 100k, 1M and 10M VMs, one row per size in
# benches/scaling/scaling.csv (vms,clouds,events,wall_s,cpu_s,peak_mb,bytes_per_vm,random_ns,
# latency_ns,command; cpu_s is the simulating thread's CPU time, the steadier figure on a shared
# machine, for a run on one thread; a run on two threads leaves it empty: both work, and wall
# time is the figure).
#
# random_ns and latency_ns are the machine's: after each size's first run in a round,
# `cloudtwin bench memory --footprint PEAK_MB` times random cache-line accesses over a buffer of
# that run's peak memory, independent ones (random_ns) and dependent ones (latency_ns). A
# simulator whose state is touched at random cannot keep its time per event when the machine's
# time per access grows with the footprint; the plot's subtitle gives that growth beside the
# simulator's (BENCHMARKS.md, issue 15). Left empty with --no-probe, or with a binary that has
# no memory workload.
#
#   benches/scaling/run.sh                      # all four sizes (10M: ten sites, ~5 GB, ~10 min)
#   benches/scaling/run.sh --sizes 10k,100k     # a subset; rows of other sizes are kept
#   benches/scaling/run.sh --bin PATH           # another binary (default target/release/cloudtwin)
#   benches/scaling/run.sh --duration 10m       # every size for that simulated time (default 1h)
#   benches/scaling/run.sh --repeat 3           # 3 rounds over the sizes; each row is the median
#   benches/scaling/run.sh --repeat 3 --inner 3 # and every size but 10M 3 times in each round
#   benches/scaling/run.sh --no-probe           # without the machine's random-access columns
#
# Each size is one process, so peak memory is that size's alone. The CSV is rewritten after
# every size (sorted by VMs), so a failure at 10M keeps the rows measured before it.
#
# With --repeat N the sizes run in N rounds (10k, 100k, 1M, 10M, then again), so every size is
# measured in every stretch of the run: on a shared machine whose speed drifts by 10-15% within
# the hour, a growth exponent from one run per size carries the drift between the two runs.
# A row is then the median wall (and CPU) time of its rounds and the largest peak memory; the
# runs of a size must process the same events (they are the same deterministic run).
#
# With --inner K every size but 10M runs K times in each round (one after another), so its row
# is the median of N x K runs. A 10M run lasts a minute or more and averages the machine's
# speed over that time; a 1M run lasts seconds and samples it, and varies by ±15% from one run
# to the next (BENCHMARKS.md, issue 15, twelfth step): more runs of the short sizes steady the
# growth exponent at the cost of seconds.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
csv="$here/scaling.csv"
bin="$root/target/release/cloudtwin"
sizes="10k,100k,1m,10m"
duration=""
repeat=1
inner=1
probe=1
header="vms,clouds,events,wall_s,cpu_s,peak_mb,bytes_per_vm,random_ns,latency_ns,command"

usage() {
    echo "usage: $0 [--sizes 10k,100k,1m,10m] [--bin PATH] [--duration 10m] [--repeat N] [--inner K] [--no-probe]" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) [ $# -ge 2 ] || usage; sizes=$2; shift 2 ;;
        --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
        --duration) [ $# -ge 2 ] || usage; duration=$2; shift 2 ;;
        --repeat) [ $# -ge 2 ] || usage; repeat=$2; shift 2 ;;
        --inner) [ $# -ge 2 ] || usage; inner=$2; shift 2 ;;
        --no-probe) probe=0; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done

case "$repeat" in
    ''|*[!0-9]*|0) echo "--repeat takes a whole number of rounds, at least 1 (got '$repeat')" >&2; exit 2 ;;
esac
case "$inner" in
    ''|*[!0-9]*|0) echo "--inner takes a whole number of runs, at least 1 (got '$inner')" >&2; exit 2 ;;
esac

if [ ! -x "$bin" ]; then
    echo "no binary at $bin (cargo build --release, or --bin PATH)" >&2
    exit 2
fi

# The bench arguments of a size.
args_of() {
    local d=""
    [ -n "$duration" ] && d=" --set simulation.duration=$duration"
    case "$1" in
        10k) echo "scale-1m --set topology.vms_per_cloud=10$d" ;;
        100k) echo "scale-1m --set topology.vms_per_cloud=100$d" ;;
        1m|1M) echo "scale-1m$d" ;;
        10m|10M) echo "scale-10m$d" ;;
        *) return 1 ;;
    esac
}

# Check every size before running any.
IFS=',' read -r -a list <<< "$sizes"
[ ${#list[@]} -gt 0 ] || usage
for s in "${list[@]}"; do
    args_of "$s" > /dev/null || { echo "unknown size: $s (10k, 100k, 1m, 10m)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for round in $(seq "$repeat"); do
for s in "${list[@]}"; do
runs=$inner
case "$s" in 10m|10M) runs=1 ;; esac
for run in $(seq "$runs"); do
    args=$(args_of "$s")
    echo "== $s (round $round of $repeat, run $run of $runs): cloudtwin bench $args" >&2
    # shellcheck disable=SC2086 # the arguments are meant to split
    "$bin" bench $args | tee "$tmp/out" >&2
    # One measurement from the bench's output (src/cli/bench.rs): the first line names the VMs
    # and clouds ("scale-1m: 10000 VMs in 1000 clouds, ..."; clouds empty from older binaries).
    awk '
        NR == 1 {
            two = ($0 ~ /, 2 threads$/)
            for (i = 2; i <= NF; i++) {
                if ($i == "VMs" || $i == "VMs,") vms = $(i - 1)
                if ($i == "clouds,") clouds = $(i - 1)
            }
        }
        $1 == "events" { events = $2 }
        $1 == "wall" { wall = $2 }
        $1 == "cpu" && !two { cpu = $2 }
        $1 == "peak" && $2 == "memory" { peak = $3 }
        $1 == "memory" && $2 == "per" { per = $4 }
        END {
            if (vms == "" || events == "" || wall == "" || peak == "" || per == "") {
                print "cannot read the bench output" > "/dev/stderr"
                exit 1
            }
            print vms "," clouds "," events "," wall "," cpu "," peak "," per
        }' "$tmp/out" >> "$tmp/runs.$s"
    # The machine's random access over this run's peak memory (once a round).
    if [ "$probe" = 1 ] && [ "$run" = 1 ]; then
        mb=$(tail -1 "$tmp/runs.$s" | cut -d, -f6 | awk '{ printf "%d", $1 + 0.5 }')
        echo "== memory probe over $mb MB: cloudtwin bench memory --footprint $mb" >&2
        if "$bin" bench memory --footprint "$mb" > "$tmp/probe" 2> "$tmp/probe.err"; then
            cat "$tmp/probe" >&2
            # The last line: MB, first touch GB/s, independent ns, dependent ns.
            tail -1 "$tmp/probe" | awk '{ print $3 "," $4 }' >> "$tmp/probe.$s"
        else
            echo "   (no memory probe: $(head -1 "$tmp/probe.err"))" >&2
        fi
    fi
    # The size's row: medians of its rounds so far (the lower middle of an even count), the
    # largest peak memory; the same events every round, or the binary is not deterministic.
    rounds=$(wc -l < "$tmp/runs.$s")
    # The median of field $1 over the lines of file $2 (the lower middle of an even count).
    median() {
        local n
        n=$(wc -l < "$2")
        cut -d, -f"$1" "$2" | sort -g | sed -n "$(( (n + 1) / 2 ))p"
    }
    if [ "$(cut -d, -f3 "$tmp/runs.$s" | sort -u | wc -l)" -ne 1 ]; then
        echo "the runs of $s processed different numbers of events:" >&2
        cat "$tmp/runs.$s" >&2
        exit 1
    fi
    IFS=, read -r vms clouds events _ _ _ _ < "$tmp/runs.$s"
    wall=$(median 4 "$tmp/runs.$s")
    cpu=$(median 5 "$tmp/runs.$s")
    # The peak memory and memory per VM of the round with the largest peak.
    IFS=, read -r peak per < <(cut -d, -f6,7 "$tmp/runs.$s" | sort -t, -k1,1g | tail -1)
    # The probes' medians (empty without any).
    random=""
    latency=""
    if [ -s "$tmp/probe.$s" ]; then
        random=$(median 1 "$tmp/probe.$s")
        latency=$(median 2 "$tmp/probe.$s")
    fi
    cmd="cloudtwin bench $args"
    if [ "$rounds" -gt 1 ] && [ "$runs" -gt 1 ]; then
        cmd="$cmd (median of $rounds runs, $runs in each interleaved round)"
    elif [ "$rounds" -gt 1 ]; then
        cmd="$cmd (median of $rounds interleaved runs)"
    fi
    echo "$vms,$clouds,$events,$wall,$cpu,$peak,$per,$random,$latency,$cmd" > "$tmp/row"
    # Merge: the old rows of other VM counts, the new row, sorted by VMs.
    {
        echo "$header"
        if [ -f "$csv" ]; then
            # Rows written before the probe's columns get them empty (before the command,
            # which may hold commas).
            awk -F, -v new="$vms" '
                NR == 1 { old = ($0 !~ /(^|,)random_ns(,|$)/); next }
                NF > 0 && $1 != new {
                    if (old) {
                        row = $1
                        for (i = 2; i <= 7; i++) row = row "," $i
                        row = row ",,"
                        for (i = 8; i <= NF; i++) row = row "," $i
                        print row
                    } else {
                        print
                    }
                }' "$csv"
        fi
        cat "$tmp/row"
    } | { read -r h; echo "$h"; sort -t, -k1,1n; } > "$csv.tmp"
    mv "$csv.tmp" "$csv"
    echo "   -> $(cat "$tmp/row")" >&2
done
done
done
echo "wrote $csv" >&2
