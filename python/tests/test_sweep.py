"""cloudtwin.sweep: the sweep_summary.csv frame, per-run access, the CLI's numbers."""

from __future__ import annotations

import pandas as pd
import pytest

import cloudtwin
from conftest import TINY, run_cli
from test_run import assert_same_values

VARY = {"lifecycle.create_failure_p": [0.1, 0.3]}


def test_sweep_summary_and_runs(tmp_path):
    s = cloudtwin.sweep(TINY, vary=VARY, replications=2, threads=2)
    assert len(s) == 4
    assert s.axes == ["lifecycle.create_failure_p"]
    assert list(s.runs["run"]) == ["p000-r000", "p000-r001", "p001-r000", "p001-r001"]
    assert s.runs["complete"].all()
    assert list(s.summary.columns[:3]) == ["point", "lifecycle.create_failure_p", "metric"]
    assert s.summary["n"].dtype == "int64"
    assert set(s.summary["n"]) == {2}
    one = s.run("p001-r000")
    assert one.summary["clouds"] == 2
    assert s.run(2).summary.equals(one.summary)
    with pytest.raises(KeyError):
        s.run("p009-r009")
    # The temporary folder goes with the object.
    folder = s.folder
    assert folder.is_dir()
    del s, one
    import gc

    gc.collect()
    assert not folder.exists()


def test_sweep_equals_the_cli(cli, tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    run_cli(cli, "sweep", str(scenario), "--vary", "lifecycle.create_failure_p=0.1,0.3", "--replications", "2", "--out", str(tmp_path / "cli"), "--quiet")
    s = cloudtwin.sweep(scenario, vary=VARY, replications=2, out=tmp_path / "py")
    cli_summary = pd.read_csv(tmp_path / "cli" / "sweep_summary.csv", dtype={"point": str})
    assert_same_values("sweep_summary", s.summary, cli_summary)
    assert (tmp_path / "py" / "sweep_summary.csv").read_bytes() == (tmp_path / "cli" / "sweep_summary.csv").read_bytes()


def test_sweep_writes_parquet_summary(tmp_path):
    s = cloudtwin.sweep(TINY, vary=VARY, set={"output.formats": ["parquet"]}, out=tmp_path / "pq")
    assert (tmp_path / "pq" / "sweep_summary.parquet").is_file()
    assert not (tmp_path / "pq" / "sweep_summary.csv").exists()
    assert len(s.summary) > 0 and s.summary["n"].dtype == "int64"


def test_bad_axes_are_input_errors():
    with pytest.raises(cloudtwin.InputError, match="seed cannot be varied"):
        cloudtwin.sweep(TINY, vary={"simulation.seed": [1, 2]})
    with pytest.raises(cloudtwin.InputError, match="create_failure_p"):
        cloudtwin.sweep(TINY, vary={"lifecycle.create_failure_p": [0.1, 7]})
