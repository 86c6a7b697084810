"""validate, latency, typed errors and Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading

import pandas as pd
import pytest

import cloudtwin
from conftest import SCENARIOS, TINY, run_cli


def test_validate_returns_the_resolved_scenario():
    s = cloudtwin.validate(SCENARIOS / "poc-timeline.toml")
    assert s["simulation"]["name"] == "poc-timeline"
    assert s["simulation"]["seed"] == 7
    assert s["simulation"]["duration"] == "1h30m"
    assert s["output"]["vm_events"] is True and s["output"]["report"] is True
    t = cloudtwin.validate(TINY, set={"topology.vms_per_cloud": 4, "simulation.seed": 9})
    assert t["topology"]["vms_per_cloud"] == 4 and t["simulation"]["seed"] == 9


def test_scenario_errors_name_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("seed = 17", "sedd = 17"))
    with pytest.raises(cloudtwin.ScenarioError) as e:
        cloudtwin.validate(bad)
    err = e.value
    assert err.file == str(bad)
    assert err.line == 4
    assert err.key == "simulation.sedd"
    assert "seed" in err.message
    assert isinstance(err, cloudtwin.InputError) and isinstance(err, ValueError)
    assert str(err).startswith(f"{bad}:4:")
    # An override: no file line, the override named.
    with pytest.raises(cloudtwin.ScenarioError) as e:
        cloudtwin.run(TINY, set={"simulation.duration": "-5s"})
    assert e.value.override == "simulation.duration=-5s"
    assert e.value.key == "simulation.duration" and e.value.file is None
    with pytest.raises(cloudtwin.ScenarioError) as e:
        cloudtwin.run(TINY, set={"output.formats": ["xlsx"]})
    assert e.value.key.startswith("output.formats")
    with pytest.raises(cloudtwin.ScenarioError) as e:
        cloudtwin.run(TINY, set={"output.formats": []})
    assert e.value.key == "output.formats" and "empty" in e.value.message
    with pytest.raises(cloudtwin.ScenarioError) as e:
        cloudtwin.run(tmp_path / "missing.toml")
    assert "cannot read" in e.value.message
    with pytest.raises(cloudtwin.ScenarioError, match="TOML syntax error"):
        cloudtwin.run("[simulation\nseed = 1\n")


def test_latency_matrix_equals_the_cli(cli):
    regions = ["aws:us-east-1", "gcp:europe-west3", "azure:koreacentral"]
    m = cloudtwin.latency(regions, stat="p95")
    assert list(m.columns) == ["src", "dst", "rtt_ms"]
    assert len(m) == 9 and m["rtt_ms"].dtype == "float64"
    assert (m["rtt_ms"] > 0).all()
    out = run_cli(cli, "latency", "--regions", ",".join(regions), "--stat", "p95").stdout
    from io import StringIO

    pd.testing.assert_frame_equal(m, pd.read_csv(StringIO(out)))
    assert cloudtwin.latency(",".join(regions)).equals(cloudtwin.latency(regions, "p50"))
    with pytest.raises(cloudtwin.InputError, match="nowhere"):
        cloudtwin.latency(["aws:nowhere"])
    with pytest.raises(cloudtwin.InputError, match="p99"):
        cloudtwin.latency(regions, stat="p99")


def test_ctrl_c_interrupts_a_run_and_writes_nothing(tmp_path):
    """SIGINT while a long run is under way raises KeyboardInterrupt (the GIL is released, so
    this thread's timer fires during the run)."""
    long = {"simulation.duration": "30d", "topology.vms_per_cloud": 50}
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cloudtwin.run(SCENARIOS / "cloud-twin-100x100.toml", set=long, out=tmp_path / "out", size_check=False)
    finally:
        timer.cancel()
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == [], "no temporary folder left"
