#!/usr/bin/env bash
# Parquet against CSV on scale-1m (1,000 clouds x 1,000 VMs, 1 simulated hour) with the per-VM
# log on: one release run writing every table in both formats, then each table's CSV and
# Parquet sizes, and the Parquet files read back with pyarrow (rows equal to the CSV rows).
# Needs ~1 GB of memory and ~3 min; a Python with pyarrow (PYTHON, default
# target/pytest-venv/bin/python). Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

out="${OUT:-target/parquet-bench}"
python="${PYTHON:-target/pytest-venv/bin/python}"
cargo build --release --locked -q
rm -rf "$out"
/usr/bin/time -v ./target/release/cloudtwin run scenarios/bench/scale-1m.toml --out "$out" --quiet \
    --set output.vm_events=true --set 'output.formats=["csv", "parquet"]' \
    --set output.report=false 2> "$out.time" || { cat "$out.time"; exit 1; }
grep -E "Elapsed|Maximum resident" "$out.time"
"$python" benches/parquet/compare.py "$out"
