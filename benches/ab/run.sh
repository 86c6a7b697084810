#!/usr/bin/env bash
# Side by side: run two cloudtwin binaries alternately, N rounds, and print each run's user CPU
# seconds, wall seconds and peak memory (GNU time). Absolute times on shared machines drift by
# 10-15%; alternating the binaries and comparing their ratio is what BENCHMARKS.md records.
#
# usage: benches/ab/run.sh N OLD_BIN NEW_BIN -- CLOUDTWIN ARGS...
#   e.g. benches/ab/run.sh 2 /tmp/old target/release/cloudtwin -- bench scale-1m --set simulation.duration=6m
set -euo pipefail
[ $# -ge 4 ] && [ "$4" = "--" ] || { echo "usage: $0 N OLD_BIN NEW_BIN -- ARGS..." >&2; exit 2; }
n=$1; old=$2; new=$3; shift 4
command -v /usr/bin/time >/dev/null || { echo "$0: needs GNU time (/usr/bin/time)" >&2; exit 2; }
err=$(mktemp); trap 'rm -f "$err"' EXIT
for _ in $(seq "$n"); do
  for pair in "old:$old" "new:$new"; do
    name=${pair%%:*}; bin=${pair#*:}
    if /usr/bin/time -f "$name user %U s wall %e s peak %M KB" "$bin" "$@" >/dev/null 2>"$err"; then
      tail -1 "$err"
    else
      echo "$name FAILED:"; tail -5 "$err"; exit 1
    fi
  done
done
