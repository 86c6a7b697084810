#!/usr/bin/env bash
# Builds the Python package's wheel (an abi3 wheel for CPython >= 3.9) with maturin into
# target/wheels/ and prints its path. Installs maturin from PyPI into a venv
# (MATURIN_VENV, default target/maturin-venv). Cargo's target folder is the repository's
# (CARGO_TARGET_DIR, default target/), so the dependencies a release build of the binary
# compiled are reused. Used by CI (.ci/run) and notebooks/run-notebooks.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${MATURIN_VENV:-target/maturin-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
out="$CARGO_TARGET_DIR/wheels"

if [ ! -x "$venv/bin/maturin" ]; then
    python3 -m venv "$venv" >&2
    timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        'maturin>=1.7,<2' >&2
fi
rm -f "$out"/cloudtwin-*.whl
"$venv/bin/maturin" build --release --locked --manifest-path python/Cargo.toml \
    --out "$out" --quiet >&2
ls "$out"/cloudtwin-*.whl
