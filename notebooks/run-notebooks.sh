#!/usr/bin/env bash
# Executes the notebooks on a small run and a tiny sweep, and fails if either fails (CI runs this
# from .ci/run). Creates a venv (NOTEBOOKS_VENV, default target/notebooks-venv) and installs
# notebooks/requirements.txt from PyPI into it; writes into target/notebooks-ci/:
#   run/            cloudtwin run scenarios/poc-timeline.toml (vm_events on: exact provisioning times)
#   sweep/          cloudtwin sweep: 5 fleet sizes x 3 replications of a 4-cloud default scenario
#   *.ipynb         the executed notebooks, with their outputs (the committed ones have none)
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${NOTEBOOKS_VENV:-target/notebooks-venv}"
work="target/notebooks-ci"

echo "-- venv $venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
timeout 900 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r notebooks/requirements.txt

echo "-- a small run and a tiny sweep"
cargo build --release --locked -q
bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/cloudtwin"
rm -rf "$work"
mkdir -p "$work"
timeout 300 "$bin" run scenarios/poc-timeline.toml --set output.vm_events=true \
    --out "$work/run" --quiet
timeout 600 "$bin" sweep scenarios/cloud-twin-100x100.toml \
    --set 'topology.mix={ aws = 2, gcp = 2 }' --set simulation.duration=1h \
    --vary topology.vms_per_cloud=5,10,20,40,80 --replications 3 \
    --out "$work/sweep" --quiet
test -s "$work/sweep/sweep_summary.csv"
# The sweep's own report, rebuilt from its CSVs (as for a merged cluster sweep).
"$bin" report "$work/sweep" --quiet
test -s "$work/sweep/report.html"

echo "-- notebooks"
export CLOUDTWIN_RESULTS="$PWD/$work/run"
export CLOUDTWIN_SWEEP="$PWD/$work/sweep"
export CLOUDTWIN_METRIC=provision_time_p95_s
for nb in explore-run compare-sweep; do
    echo "   $nb.ipynb"
    timeout 600 "$venv/bin/jupyter" nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout=300 --output-dir "$work" "notebooks/$nb.ipynb" \
        2> >(grep -v "Kernel is running over TCP without encryption" >&2)
done
echo "notebooks ok: $work/explore-run.ipynb, $work/compare-sweep.ipynb"
