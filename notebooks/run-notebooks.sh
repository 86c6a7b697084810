#!/usr/bin/env bash
# Executes the notebooks with the cloudtwin Python package, and fails if either fails (CI runs
# this from .ci/run). Creates a venv (NOTEBOOKS_VENV, default target/notebooks-venv), installs
# notebooks/requirements.txt from PyPI and the package's wheel (CLOUDTWIN_WHEEL, else built by
# python/build-wheel.sh) into it; writes the executed notebooks, with their outputs, into
# target/notebooks-ci/ (the committed ones have none):
#   explore-run.ipynb     runs scenarios/poc-timeline.toml (vm_events on: exact provisioning times)
#   compare-sweep.ipynb   runs a sweep: 5 fleet sizes x 3 replications of a 4-cloud default scenario
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

echo "-- the cloudtwin package"
wheel="${CLOUDTWIN_WHEEL:-}"
if [ -z "$wheel" ]; then
    wheel="$(bash python/build-wheel.sh)"
fi
timeout 900 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps "$wheel"
timeout 900 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
"$venv/bin/python" -c "import cloudtwin; print('cloudtwin', cloudtwin.__version__)"

rm -rf "$work"
mkdir -p "$work"
echo "-- notebooks"
# The notebooks' own defaults: poc-timeline with vm_events, and the 5 x 3 sweep.
for nb in explore-run compare-sweep; do
    echo "   $nb.ipynb"
    CLOUDTWIN_METRIC=provision_time_p95_s timeout 900 "$venv/bin/jupyter" nbconvert --to notebook \
        --execute --ExecutePreprocessor.timeout=600 --output-dir "$work" "notebooks/$nb.ipynb" \
        2> >(grep -v "Kernel is running over TCP without encryption" >&2)
done
echo "notebooks ok: $work/explore-run.ipynb, $work/compare-sweep.ipynb"
