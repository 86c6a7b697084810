//! `cloudtwin._cloudtwin`: the native half of the Python package (PyO3). It runs the same
//! library code as the `cloudtwin` binary and hands the results over as pyarrow record batches
//! (the Arrow C data interface); the pure-Python half (`cloudtwin/__init__.py`) turns them into
//! pandas objects and gives the functions their keyword arguments and docstrings.
//!
//! - [`errors`]: every error becomes a typed Python exception (`cloudtwin.ScenarioError`, ...).
//! - [`interrupt`]: work runs with the GIL released, and Ctrl-C stops it (KeyboardInterrupt).
//! - [`tables`]: tables and results folders as record batches.
//!
//! No panic crosses into Python: the work runs under `catch_unwind` and a panic becomes a
//! `cloudtwin.RunError`.

mod errors;
mod interrupt;
mod tables;

use cloudtwin::batch::{self, Axis, Hooks, RunSpec, RunStatus, Shard, Sweep, SweepSession};
use cloudtwin::engine::RunControl;
use cloudtwin::network::{LatencyModel, MeasuredMatrix, RttStat, find_regions};
use cloudtwin::output::names::file;
use cloudtwin::output::{ResultsDir, Table};
use cloudtwin::scenario::{self, Draft, Override};
use cloudtwin::topology::Catalogue;
use errors::{Error, input, run_error};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A scenario as Python gives it: a file, or TOML text.
fn read_draft(scenario: &str, is_text: bool, sets: &[String]) -> Result<Draft, Error> {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<_, _>>()?;
    Ok(if is_text {
        scenario::draft(scenario, "<inline>", "inline", None, &overrides)?
    } else {
        scenario::read(Path::new(scenario), &overrides)?
    })
}

fn limits() -> cloudtwin::size::Limits {
    // As the CLI's size gate reads the machine.
    cloudtwin::size::machine::limits()
}

/// Refuses a run too big for this machine, as `cloudtwin run` does (unless `size_check` is
/// false).
fn size_gate(draft: &Draft, size_check: bool) -> Result<(), Error> {
    if size_check {
        cloudtwin::size::check(&draft.scenario, &limits()).map_err(|r| {
            input(format!(
                "{}: {r} (pass size_check=False to run anyway)",
                draft.origin()
            ))
        })?;
    }
    Ok(())
}

/// The summary rows as Python values: (metric, int or float).
fn summary_list<'py>(
    py: Python<'py>,
    summary: &cloudtwin::output::Summary,
) -> PyResult<Bound<'py, PyList>> {
    use cloudtwin::output::summary::Value;
    let rows = PyList::empty(py);
    for (m, v) in summary.rows() {
        let value = match v {
            Value::Int(i) => (*i).into_pyobject(py)?.into_any(),
            Value::Float(f) => (*f).into_pyobject(py)?.into_any(),
        };
        rows.append((m, value))?;
    }
    Ok(rows)
}

/// Runs a scenario: returns `(summary rows, [(table name, pyarrow.RecordBatch)], folder)`.
#[pyfunction]
#[pyo3(signature = (scenario, is_text, sets, out=None, force=false, size_check=true))]
fn run<'py>(
    py: Python<'py>,
    scenario: &str,
    is_text: bool,
    sets: Vec<String>,
    out: Option<PathBuf>,
    force: bool,
    size_check: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let draft = read_draft(scenario, is_text, &sets).map_err(|e| e.into_py(py))?;
    size_gate(&draft, size_check).map_err(|e| e.into_py(py))?;
    let loaded = draft.build().map_err(|e| Error::from(e).into_py(py))?;
    // Refuse an existing folder before spending time on the run.
    let dir = match &out {
        Some(target) => {
            Some(ResultsDir::create(target, force).map_err(|e| errors::results(e).into_py(py))?)
        }
        None => None,
    };
    let stop = AtomicBool::new(false);
    let stop_flag = &stop;
    let work = move || -> Result<_, Error> {
        let started = Instant::now();
        let mut observer = |_: cloudtwin::engine::Progress| !stop_flag.load(Ordering::Relaxed);
        let output =
            cloudtwin::run::simulate(&loaded, &mut RunControl::every(1 << 14, &mut observer));
        if output.interrupted {
            return Err(Error::Interrupted);
        }
        let wall = started.elapsed().as_secs_f64();
        let folder = match dir {
            Some(d) => Some(
                cloudtwin::run::write_results(&loaded, &output, d, wall)
                    .map_err(errors::results)?,
            ),
            None => None,
        };
        let batches = tables::batches(&output.tables)?;
        Ok((output.summary, batches, folder))
    };
    let (summary, batches, folder) = interrupt::run(py, &stop, work)?;
    let tables = tables::to_py(py, batches)?;
    let folder = folder.map(|f| f.display().to_string());
    (summary_list(py, &summary)?, tables, folder)
        .into_pyobject(py)
        .map(Bound::into_any)
}

/// Reads a results folder (CSV or Parquet tables): `(summary rows, [(name, batch)])`.
#[pyfunction]
fn load<'py>(py: Python<'py>, folder: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let stop = AtomicBool::new(false);
    let (summary, batches) = interrupt::run(py, &stop, || tables::read_folder(&folder))?;
    let tables = tables::to_py(py, batches)?;
    let rows = PyList::empty(py);
    for (m, v) in summary {
        rows.append((m, v))?;
    }
    (rows, tables).into_pyobject(py).map(Bound::into_any)
}

/// Table `csv_name` of a results or sweep folder (its Parquet file, else its CSV file) as one
/// record batch; None when it is in neither format.
#[pyfunction]
fn read_table<'py>(
    py: Python<'py>,
    folder: PathBuf,
    csv_name: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let batch = tables::read_batch(&folder, csv_name).map_err(|e| e.into_py(py))?;
    batch.map(|b| tables::batch_to_py(py, &b)).transpose()
}

/// Runs a sweep into folder `out`: a dict with the folder, the summary batch, the runs and
/// what happened.
#[pyfunction]
#[pyo3(signature = (scenario, is_text, sets, vary, out, replications=None, threads=None, force=false, size_check=true))]
#[allow(clippy::too_many_arguments)]
fn sweep<'py>(
    py: Python<'py>,
    scenario: &str,
    is_text: bool,
    sets: Vec<String>,
    vary: Vec<String>,
    out: PathBuf,
    replications: Option<u32>,
    threads: Option<usize>,
    force: bool,
    size_check: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let fail = |e: Error| e.into_py(py);
    if threads == Some(0) {
        return Err(fail(input("threads must be at least 1")));
    }
    let axes: Vec<Axis> = vary
        .iter()
        .map(|v| Axis::parse(v).map_err(input))
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    let limits = limits();
    let checked = size_check.then_some(&limits);
    let prepared = if is_text {
        Sweep::from_text(
            scenario.to_string(),
            "<inline>".into(),
            "inline".into(),
            None,
            &sets,
            &axes,
            replications,
            checked,
        )
    } else {
        Sweep::prepare(Path::new(scenario), &sets, &axes, replications, checked)
    };
    let sw = prepared.map_err(|e| fail(errors::batch(e)))?;
    let wanted = threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    let in_flight = if size_check {
        batch::runs_in_flight(wanted, limits.memory_bytes, sw.largest.1.peak_bytes()).map_err(
            |avail| {
                fail(input(format!(
                    "{}: a run of the largest sweep point needs about {} of memory; this \
                     machine has {} available (pass size_check=False to run anyway)",
                    sw.origin,
                    cloudtwin::size::fmt_bytes(sw.largest.1.peak_bytes()),
                    cloudtwin::size::fmt_bytes(avail)
                )))
            },
        )?
    } else {
        wanted
    };
    let stop = AtomicBool::new(false);
    let work = || -> Result<_, Error> {
        let session = SweepSession::open(&sw, &out, Shard::ALL, force).map_err(errors::batch)?;
        let started = Instant::now();
        let clock = move || started.elapsed().as_secs_f64();
        let on_done = |_: &RunSpec, _: &RunStatus| {};
        let hooks = Hooks {
            clock: &clock,
            stop: &stop,
            on_done: &on_done,
        };
        let results = session
            .execute(Some(in_flight), &hooks)
            .map_err(errors::batch)?;
        let report = session.finish(&results).map_err(errors::batch)?;
        if report.interrupted > 0 {
            return Err(Error::Interrupted);
        }
        let summary = tables::read_batch(&report.dir, file::SWEEP_SUMMARY)?;
        Ok((report, summary))
    };
    let (report, summary) = interrupt::run(py, &stop, work)?;

    let d = PyDict::new(py);
    d.set_item("folder", report.dir.display().to_string())?;
    d.set_item(
        "axes",
        sw.plan
            .grid
            .axes
            .iter()
            .map(|a| a.key.clone())
            .collect::<Vec<_>>(),
    )?;
    let failed: Vec<(String, String)> = report
        .failed
        .iter()
        .map(|(r, m)| (r.id.clone(), m.clone()))
        .collect();
    d.set_item("failed", failed)?;
    let runs = PyList::empty(py);
    for r in &sw.plan.runs {
        let row = PyDict::new(py);
        row.set_item("run", &r.id)?;
        row.set_item("point", sw.plan.grid.point_id(r.point))?;
        row.set_item("replication", r.replication)?;
        row.set_item("seed", r.seed)?;
        for (a, cell) in sw.plan.grid.axes.iter().zip(sw.plan.grid.cells(r.point)) {
            row.set_item(&a.key, cell)?;
        }
        row.set_item("complete", sw.is_complete(&report.dir, r))?;
        runs.append(row)?;
    }
    d.set_item("runs", runs)?;
    let summary = match summary {
        Some(b) => Some(tables::batch_to_py(py, &b)?),
        None => None,
    };
    d.set_item("summary", summary)?;
    Ok(d)
}

/// Checks a scenario: the resolved scenario (every default filled in) as JSON text.
#[pyfunction]
#[pyo3(signature = (scenario, is_text, sets, size_check=true))]
fn validate(
    py: Python<'_>,
    scenario: &str,
    is_text: bool,
    sets: Vec<String>,
    size_check: bool,
) -> PyResult<String> {
    let check = || -> Result<String, Error> {
        let draft = read_draft(scenario, is_text, &sets)?;
        size_gate(&draft, size_check)?;
        let loaded = draft.build()?;
        serde_json::to_string(&loaded.scenario).map_err(|e| run_error(e.to_string()))
    };
    check().map_err(|e| e.into_py(py))
}

/// The RTT matrix of `regions` (`provider:region`): a batch of `src,dst,rtt_ms`, one row per
/// ordered pair, rounded to the microsecond as `cloudtwin latency` prints it.
#[pyfunction]
#[pyo3(signature = (regions, stat, seed=1, measured=None))]
fn latency<'py>(
    py: Python<'py>,
    regions: Vec<String>,
    stat: &str,
    seed: u64,
    measured: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let build = || -> Result<Table, Error> {
        let stat = match stat {
            "p50" => RttStat::P50,
            "p95" => RttStat::P95,
            "mean" => RttStat::Mean,
            other => {
                return Err(input(format!(
                    "stat {other:?}: expected \"p50\", \"p95\" or \"mean\""
                )));
            }
        };
        let cat = Catalogue::builtin();
        let regions = find_regions(&regions, &cat).map_err(input)?;
        let mut model = LatencyModel::builtin(seed);
        if let Some(path) = &measured {
            let m = MeasuredMatrix::from_path(path).map_err(input)?;
            let unknown = m.unknown_regions(&cat);
            if !unknown.is_empty() {
                return Err(input(format!(
                    "{}: unknown regions: {}",
                    path.display(),
                    unknown.join(", ")
                )));
            }
            model = model.with_measured(m);
        }
        let mut t = Table::new("latency.csv", &["src", "dst", "rtt_ms"]);
        for a in &regions {
            for b in &regions {
                t.push(vec![
                    a.key(),
                    b.key(),
                    format!("{:.3}", model.rtt_ms(a, b, stat)),
                ]);
            }
        }
        Ok(t)
    };
    let table = build().map_err(|e| e.into_py(py))?;
    let batch = cloudtwin::output::columns::record_batch(&table)
        .map_err(|e| run_error(e.to_string()).into_py(py))?;
    tables::batch_to_py(py, &batch)
}

/// The native module.
#[pymodule]
fn _cloudtwin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(read_table, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(latency, m)?)?;
    Ok(())
}
