"""Shared fixtures: the repository's paths and the ``cloudtwin`` binary the CLI comparisons
run (``CLOUDTWIN_BIN``, else ``target/release/cloudtwin``, else ``target/debug/cloudtwin``;
missing, the CLI tests fail under CI and are skipped elsewhere)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"

# A small scenario (TOML text) for sweeps and error tests.
TINY = """
[simulation]
name = "tiny"
seed = 17
duration = "10m"
sample_interval = "30s"

[topology]
vms_per_cloud = 2
mix = { aws = 1, gcp = 1 }

[lifecycle]
api_delay = { dist = "uniform", min = "5s", max = "10s" }

[monitoring]
enabled = false

[output]
report = false
"""


@pytest.fixture(scope="session")
def cli() -> Path:
    candidates = [os.environ.get("CLOUDTWIN_BIN", "")]
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    candidates += [str(target / "release" / "cloudtwin"), str(target / "debug" / "cloudtwin")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return Path(c)
    message = "no cloudtwin binary: build it (cargo build --release) or set CLOUDTWIN_BIN"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_cli(cli: Path, *args: str) -> subprocess.CompletedProcess:
    """Runs the binary from the repository root; it must succeed."""
    p = subprocess.run([str(cli), *args], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, f"cloudtwin {' '.join(args)}: exit {p.returncode}\n{p.stderr}"
    return p
