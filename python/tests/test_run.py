"""cloudtwin.run and cloudtwin.load: summaries and tables as pandas objects with typed columns,
equal value for value to the CLI's CSV files, and the same results folder as the CLI writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import cloudtwin
from conftest import ROOT, SCENARIOS, TINY, run_cli

POC = str(SCENARIOS / "poc-timeline.toml")


def test_run_returns_a_summary_series_and_typed_tables():
    r = cloudtwin.run(POC, set={"output.vm_events": True})
    assert isinstance(r.summary, pd.Series)
    assert r.summary.dtype == "float64"
    assert r.summary.index.name == "metric"
    assert r.summary["clouds"] == 3 and r.summary["vms_configured"] > 0
    assert r.summary["sim_time_s"] == 90 * 60
    assert r.folder is None
    assert {"clouds", "vm_states", "vm_events", "mcis_status", "outages"} <= set(r.tables)
    clouds = r.tables["clouds"]
    assert sorted(clouds["provider"]) == ["aws", "azure", "gcp"]
    assert clouds["vms"].dtype == "int64"
    assert clouds["lat"].dtype == "float64"
    assert pd.api.types.is_string_dtype(clouds["provider"])
    states = r.tables["vm_states"]
    assert states["time_s"].dtype == "float64", "times are float seconds"
    assert states["count"].dtype == "int64", "counts stay integers"
    assert r["vm_events"] is r.tables["vm_events"]


def test_same_seed_same_results_and_seed_changes_them():
    a = cloudtwin.run(POC, seed=3)
    b = cloudtwin.run(POC, seed=3)
    pd.testing.assert_series_equal(a.summary, b.summary)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    c = cloudtwin.run(POC, seed=4)
    assert not a.tables["vm_states"].equals(c.tables["vm_states"])


def csv_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def assert_same_values(name: str, ours: pd.DataFrame, cli: pd.DataFrame):
    """Same columns and rows, equal values (a numeric column may be int64 on one side and
    float64 on the other: pandas infers CSV types per file)."""
    assert list(ours.columns) == list(cli.columns), name
    assert len(ours) == len(cli), name
    for col in ours.columns:
        a, b = ours[col], cli[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            pd.testing.assert_series_equal(a.astype("float64"), b.astype("float64"), check_names=False, obj=f"{name}.{col}")
        else:
            sa = a.astype(object).where(a.notna(), None).map(lambda v: v if v is None else str(v))
            sb = b.astype(object).where(b.notna(), None).map(lambda v: v if v is None else str(v))
            assert list(sa) == list(sb), f"{name}.{col}"


def test_tables_equal_the_cli_csv_files(cli, tmp_path):
    folder = tmp_path / "cli"
    run_cli(cli, "run", POC, "--seed", "11", "--set", "output.vm_events=true", "--out", str(folder), "--quiet")
    r = cloudtwin.run(POC, seed=11, set={"output.vm_events": True})
    summary = pd.read_csv(folder / "summary.csv").set_index("metric")["value"]
    pd.testing.assert_series_equal(r.summary, summary.astype("float64"), check_names=False)
    csvs = sorted(p.stem for p in folder.glob("*.csv") if p.name != "summary.csv")
    assert sorted(r.tables) == csvs
    for name in csvs:
        assert_same_values(name, r.tables[name], csv_frame(folder / f"{name}.csv"))


def without_wall_time(manifest: bytes) -> dict:
    """A manifest without what differs between two builds or two runs of the same results:
    the wall time, and the git revision each build recorded."""
    m = json.loads(manifest)
    m.pop("wall_time_s")
    m.pop("git_revision")
    return m


def test_out_writes_the_same_folder_as_the_cli(cli, tmp_path):
    """Every file byte for byte (report and plots included), the manifest but its wall time."""
    run_cli(cli, "run", POC, "--out", str(tmp_path / "cli"), "--quiet")
    r = cloudtwin.run(POC, out=tmp_path / "py")
    assert r.folder == tmp_path / "py"
    files = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())
    assert files(tmp_path / "py") == files(tmp_path / "cli")
    for rel in files(tmp_path / "cli"):
        a, b = (tmp_path / "py" / rel).read_bytes(), (tmp_path / "cli" / rel).read_bytes()
        if rel == "manifest.json":
            assert without_wall_time(a) == without_wall_time(b)
        else:
            assert a == b, f"{rel} differs"
    # An existing folder is refused (InputError), unless forced.
    with pytest.raises(cloudtwin.InputError, match="already exists"):
        cloudtwin.run(POC, out=tmp_path / "py")
    cloudtwin.run(POC, out=tmp_path / "py", force=True, set={"simulation.duration": "5m"})


def test_inline_toml_and_load(tmp_path):
    r = cloudtwin.run(TINY, out=tmp_path / "tiny")
    assert r.summary["clouds"] == 2
    back = cloudtwin.load(tmp_path / "tiny")
    pd.testing.assert_series_equal(back.summary, r.summary)
    assert sorted(back.tables) == sorted(r.tables)
    for name in r.tables:
        pd.testing.assert_frame_equal(back.tables[name], r.tables[name], obj=name)
    with pytest.raises(cloudtwin.InputError, match="not a results folder"):
        cloudtwin.load(tmp_path)
