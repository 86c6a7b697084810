"""cloudtwin from Python: run scenarios and sweeps of the deterministic multi-cloud simulator
and get pandas DataFrames.

The simulation is the same library code as the ``cloudtwin`` command-line tool (a native
module built with PyO3), so a scenario and seed give the same results here as there. Tables
come over as typed Arrow columns (integers as integers, times as float seconds, text as
strings), not as CSV text to re-parse.

>>> import cloudtwin
>>> r = cloudtwin.run("scenarios/poc-timeline.toml", seed=7)
>>> r.summary["vms_provisioned"]            # a pandas Series: metric -> value
>>> r.tables["vm_states"].head()            # name -> pandas DataFrame
>>> s = cloudtwin.sweep("scenarios/poc-timeline.toml",
...                     vary={"lifecycle.create_failure_p": [0.1, 0.3]}, replications=3)
>>> s.summary                               # the sweep_summary.csv frame
>>> cloudtwin.latency(["aws:us-east-1", "gcp:europe-west3"])

Functions: :func:`run`, :func:`sweep`, :func:`load` (a results folder), :func:`load_sweep`
(a sweep folder), :func:`validate`, :func:`latency`.
Exceptions: :class:`ScenarioError` (file, line, key, message), :class:`InputError`,
:class:`RunError`; Ctrl-C raises KeyboardInterrupt.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

from . import _cloudtwin
from .errors import CloudtwinError, InputError, RunError, ScenarioError

__version__: str = _cloudtwin.__version__

__all__ = [
    "run",
    "sweep",
    "load",
    "load_sweep",
    "validate",
    "latency",
    "Run",
    "Sweep",
    "CloudtwinError",
    "InputError",
    "RunError",
    "ScenarioError",
    "__version__",
]

Scenario = Union[str, "os.PathLike[str]"]


# ------------------------------------------------------------------------------------------
# Arguments
# ------------------------------------------------------------------------------------------


def _scenario(scenario: Scenario) -> Tuple[str, bool]:
    """(text, is TOML text): a path-like or an existing file is a file; a string holding a
    newline or an ``=`` is TOML text; anything else a file name (which then must exist)."""
    if isinstance(scenario, os.PathLike):
        return os.fspath(scenario), False
    if not isinstance(scenario, str):
        raise TypeError(f"scenario: expected a path or TOML text, got {type(scenario).__name__}")
    if os.path.isfile(scenario):
        return scenario, False
    if "\n" in scenario or "=" in scenario:
        return scenario, True
    return scenario, False


def _toml_inner(v: Any) -> str:
    """A value inside a TOML array or inline table (strings quoted)."""
    if isinstance(v, str):
        return json.dumps(v)
    return _toml_value(v)


def _toml_value(v: Any) -> str:
    """A Python value as the text of a ``--set key=value`` value. Strings pass as they are, as
    on the command line (``"10m"`` is a duration; quote to force a string that looks like a
    number)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return v
    if isinstance(v, os.PathLike):
        return json.dumps(os.fspath(v))
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_inner(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_inner(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as a scenario value")


def _vary_value(v: Any) -> str:
    """One value of a ``--vary`` list (a string holding a comma is quoted)."""
    if isinstance(v, str) and "," in v:
        return json.dumps(v)
    return _toml_value(v)


def _sets(set: Optional[Mapping[str, Any]], seed: Optional[int] = None) -> List[str]:
    """``key=value`` overrides, as ``--set`` (and ``--seed``) give them."""
    out = [f"{k}={_toml_value(v)}" for k, v in (set or {}).items()]
    if seed is not None:
        out.append(f"simulation.seed={int(seed)}")
    return out


# ------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------


def _summary(rows: Iterable[Tuple[str, Any]]) -> pd.Series:
    metrics, values = [], []
    for m, v in rows:
        metrics.append(m)
        values.append(float("nan") if v is None else v)
    return pd.Series(values, index=pd.Index(metrics, name="metric"), name="value", dtype="float64")


def _frames(batches: Iterable[Tuple[str, Any]]) -> Dict[str, pd.DataFrame]:
    return {name: batch.to_pandas() for name, batch in batches}


class Run:
    """The results of one run.

    Attributes:
        summary: ``summary.csv`` as a float Series indexed by metric (``vms_provisioned``,
            ``provision_time_p50_s``, ...); undefined values are NaN.
        tables: every table by name (``"vm_states"``, ``"monitoring"``, ``"clouds"``, ...;
            the CSV file names without ``.csv``) as a pandas DataFrame.
        folder: the results folder written (``out=``), else None.
    """

    def __init__(self, summary: pd.Series, tables: Dict[str, pd.DataFrame], folder: Optional[Path]):
        self.summary = summary
        self.tables = tables
        self.folder = folder

    def __getitem__(self, table: str) -> pd.DataFrame:
        """``run["vm_states"]`` is ``run.tables["vm_states"]``."""
        return self.tables[table]

    def __repr__(self) -> str:
        where = f", folder={str(self.folder)!r}" if self.folder else ""
        return f"<cloudtwin.Run: {len(self.summary)} metrics, tables {sorted(self.tables)}{where}>"


def run(
    scenario: Scenario,
    *,
    seed: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    force: bool = False,
    size_check: bool = True,
) -> Run:
    """Runs a scenario, as ``cloudtwin run`` does, and returns its results.

    Args:
        scenario: a scenario file, or TOML text.
        seed: the run's seed (overrides ``simulation.seed``, like ``--seed``).
        set: overrides, key path -> value, like ``--set``: ``{"topology.vms_per_cloud": 20,
            "simulation.duration": "30m", "output.vm_events": True}``.
        out: also write the results folder there (``output.formats`` decides CSV and/or
            Parquet files), atomically as the CLI does.
        force: replace ``out`` if it holds earlier results.
        size_check: refuse a run whose size estimate does not fit this machine (as the CLI
            does without ``--no-size-check``).

    The simulation runs with the GIL released; Ctrl-C stops it (KeyboardInterrupt, nothing
    written).

    Raises:
        ScenarioError: the scenario or an override is invalid.
        InputError: ``out`` exists (without ``force``), or the run is too big.
        RunError: writing the results failed.
    """
    text, is_text = _scenario(scenario)
    target = None if out is None else os.fspath(out)
    summary, batches, folder = _cloudtwin.run(
        text, is_text, _sets(set, seed), out=target, force=force, size_check=size_check
    )
    return Run(_summary(summary), _frames(batches), None if folder is None else Path(folder))


def load(folder: Union[str, "os.PathLike[str]"]) -> Run:
    """Reads a results folder written by ``cloudtwin run`` (CSV or Parquet tables).

    Raises:
        InputError: the folder holds no ``summary.csv`` nor ``summary.parquet``.
    """
    summary, batches = _cloudtwin.load(os.fspath(folder))
    return Run(_summary(summary), _frames(batches), Path(folder))


class Sweep:
    """The results of a sweep.

    Attributes:
        summary: ``sweep_summary.csv`` as a DataFrame: per point and metric, ``n``, ``mean``,
            ``sd`` and the 95% confidence interval (``ci95_low``, ``ci95_high``).
        runs: one row per run: ``run`` (its id), ``point``, ``replication``, ``seed``, the
            value of each varied key, and ``complete``.
        axes: the varied keys.
        folder: the sweep folder (a temporary one, removed with this object, unless ``out``
            was given).
    """

    def __init__(self, result: Dict[str, Any], temporary: Optional[str]):
        self.folder = Path(result["folder"])
        self.axes: List[str] = list(result["axes"])
        self.runs = pd.DataFrame(result["runs"])
        batch = result["summary"]
        self.summary = batch.to_pandas() if batch is not None else pd.DataFrame()
        self._temporary = temporary
        if temporary is not None:
            self._cleanup = weakref.finalize(self, shutil.rmtree, temporary, True)

    def run(self, which: Union[int, str]) -> Run:
        """The results of one run, by its id (``"p001-r002"``) or its position in ``runs``."""
        run_id = self.runs["run"].iloc[which] if isinstance(which, int) else which
        if run_id not in set(self.runs["run"]):
            raise KeyError(f"no run {run_id!r} in this sweep")
        return load(self.folder / "runs" / run_id)

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        return (
            f"<cloudtwin.Sweep: {len(self.runs)} runs over {', '.join(self.axes) or 'no axis'}, "
            f"folder={str(self.folder)!r}>"
        )


def sweep(
    scenario: Scenario,
    vary: Optional[Mapping[str, Union[Sequence[Any], Any]]] = None,
    *,
    replications: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    force: bool = False,
    size_check: bool = True,
) -> Sweep:
    """Runs a grid of parameter values x replications on all cores, as ``cloudtwin sweep``.

    Args:
        scenario: a scenario file, or TOML text (its ``[sweep]`` table, if any, gives axes and
            replications too).
        vary: key path -> list of values, like ``--vary``:
            ``{"lifecycle.create_failure_p": [0.1, 0.3], "topology.vms_per_cloud": [5, 10]}``.
        replications: runs per point, each with its own seed (default: ``[sweep]``, else 1).
        threads: worker threads (default: one per core, fewer if memory is short).
        set: overrides shared by every run, like ``--set``.
        out: the sweep folder (resumed if it holds the same sweep); default: a temporary
            folder removed with the returned object.
        force: run every run again, replacing another sweep's folder.
        size_check: refuse points too big for this machine.

    Raises:
        InputError: a bad axis, override or scenario (message names the point).
        RunError: some runs failed (the message lists them; the others are in the folder).
    """
    text, is_text = _scenario(scenario)
    axes = []
    for key, values in (vary or {}).items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        axes.append(f"{key}=" + ",".join(_vary_value(v) for v in values))
    temporary = None
    if out is None:
        temporary = tempfile.mkdtemp(prefix="cloudtwin-sweep-")
        folder = os.path.join(temporary, "sweep")
    else:
        folder = os.fspath(out)
    try:
        result = _cloudtwin.sweep(
            text,
            is_text,
            _sets(set),
            axes,
            folder,
            replications=replications,
            threads=threads,
            force=force,
            size_check=size_check,
        )
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    if result["failed"]:
        failed = "; ".join(f"{run_id}: {m}" for run_id, m in result["failed"])
        raise RunError(
            f"{len(result['failed'])} runs failed ({failed}); the others are in {result['folder']}"
        )
    return Sweep(result, temporary)


def load_sweep(folder: Union[str, "os.PathLike[str]"]) -> Sweep:
    """Reads a sweep folder written by ``cloudtwin sweep`` or ``cloudtwin merge`` (its
    ``sweep_summary.csv`` or ``.parquet`` and ``sweep_manifest.json``).

    Raises:
        InputError: the folder holds no ``sweep_manifest.json``.
    """
    folder = Path(folder)
    manifest_path = folder / "sweep_manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"{folder} is not a sweep folder (no sweep_manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    axes = [a["key"] for a in manifest.get("axes", [])]
    runs = pd.DataFrame(manifest["runs"]).rename(columns={"id": "run"})
    runs["point"] = runs["run"].str.rsplit("-r", n=1).str[0]
    runs["complete"] = runs["status"] == "complete"
    batch = _cloudtwin.read_table(os.fspath(folder), "sweep_summary.csv")
    if batch is not None and axes:
        values = batch.to_pandas()[["point"] + axes].drop_duplicates("point")
        runs = runs.merge(values, on="point", how="left")
    columns = ["run", "point", "replication", "seed"] + axes + ["complete"]
    result = {"folder": str(folder), "axes": axes, "runs": runs[columns], "summary": batch}
    return Sweep(result, None)


def validate(
    scenario: Scenario, *, set: Optional[Mapping[str, Any]] = None, size_check: bool = True
) -> Dict[str, Any]:
    """Checks a scenario as ``cloudtwin validate`` does and returns it resolved (every default
    filled in) as a dict (durations as strings such as ``"1h"``).

    Raises:
        ScenarioError: the scenario or an override is invalid (``file``, ``line``, ``key``,
            ``message``).
        InputError: a run of it would not fit this machine (unless ``size_check=False``).
    """
    text, is_text = _scenario(scenario)
    return json.loads(_cloudtwin.validate(text, is_text, _sets(set), size_check=size_check))


def latency(
    regions: Union[str, Sequence[str]],
    stat: str = "p50",
    *,
    seed: int = 1,
    measured: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> pd.DataFrame:
    """The latency model's RTT between every ordered pair of regions, as ``cloudtwin latency``.

    Args:
        regions: ``provider:region`` names, as a list or one comma-separated string.
        stat: ``"p50"``, ``"p95"`` or ``"mean"`` of each pair's RTT distribution.
        seed: seed of the per-pair effects.
        measured: a measured RTT matrix (CSV) overriding the pairs it covers.

    Returns:
        A DataFrame ``src, dst, rtt_ms`` (milliseconds, to the microsecond), one row per
        ordered pair, the diagonal included.

    Raises:
        InputError: an unknown region or statistic.
    """
    if isinstance(regions, str):
        regions = [r.strip() for r in regions.split(",") if r.strip()]
    path = None if measured is None else os.fspath(measured)
    return _cloudtwin.latency(list(regions), stat, seed=seed, measured=path).to_pandas()
