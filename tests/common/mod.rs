//! Helpers shared by the integration tests. Each `tests/*.rs` file is its own crate and
//! includes this module with `mod common;` (then `use common::...`); helpers that only one
//! file needs stay in that file.
//!
//! - Paths: [`project_path`], [`scenario_path`], [`default_scenario`].
//! - The binary: [`cloudtwin`], [`binary_path`], [`run_command`] / [`run_binary`] (`cloudtwin
//!   run`), [`stdout_of`] (of a command that must succeed), [`output_of`] (exit code, stdout,
//!   stderr).
//! - The library: [`overrides`], [`load_text`], [`load_file`], [`run_loaded`], [`run_text`],
//!   [`run_file`].
//! - Results: summary metrics ([`int`], [`count`], [`float`]), tables ([`table`], [`col`],
//!   [`num`], [`csvs`]), folders ([`write_file`], [`entries`], [`files`], [`read_json`]).
//!
//! Every helper panics with a message naming what was missing or malformed.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use assert_cmd::Command;
use cloudtwin::engine::RunControl;
use cloudtwin::output::Table;
use cloudtwin::output::names::file;
use cloudtwin::output::summary::Value;
use cloudtwin::run::RunOutput;
use cloudtwin::scenario::{Loaded, Override};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// ------------------------------------------------------------------------------------------
// Paths
// ------------------------------------------------------------------------------------------

/// `rel` inside the crate's folder (where `Cargo.toml` is).
pub fn project_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A shipped scenario: `scenarios/<name>`.
pub fn scenario_path(name: &str) -> PathBuf {
    project_path("scenarios").join(name)
}

/// The default scenario, `scenarios/cloud-twin-100x100.toml` (100 clouds x 100 VMs).
pub fn default_scenario() -> PathBuf {
    scenario_path("cloud-twin-100x100.toml")
}

// ------------------------------------------------------------------------------------------
// The binary
// ------------------------------------------------------------------------------------------

/// Environment variables that choose a sweep's shard (`--shard auto`).
const SHARD_VARIABLES: [&str; 5] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
    "JOB_COMPLETION_INDEX",
    "CLOUDTWIN_SHARDS",
];

/// The path of the `cloudtwin` binary Cargo built for these tests.
pub fn binary_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("cloudtwin")
}

/// The `cloudtwin` binary as a command, without the shard variables of the environment (a test
/// run inside a cluster job must not pick up its shard).
pub fn cloudtwin() -> Command {
    let mut c = Command::cargo_bin("cloudtwin").expect("the cloudtwin binary builds");
    for v in SHARD_VARIABLES {
        c.env_remove(v);
    }
    c
}

/// `cloudtwin run <scenario> --out <out> --quiet <extra...>`, not yet run.
pub fn run_command(scenario: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = cloudtwin();
    c.arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra);
    c
}

/// Runs [`run_command`] and asserts that it succeeds.
pub fn run_binary(scenario: &Path, out: &Path, extra: &[&str]) {
    run_command(scenario, out, extra).assert().success();
}

/// The stdout of `cmd`, which must succeed (else the panic shows its exit code and stderr).
pub fn stdout_of(cmd: &mut Command) -> String {
    let o = cmd.output().expect("the command starts");
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8 stdout")
}

/// Runs `cmd` to its end: exit code (-1 when killed by a signal), stdout and stderr (lossy
/// UTF-8).
pub fn output_of(cmd: &mut Command) -> (i32, String, String) {
    let o = cmd.output().expect("the command starts");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

// ------------------------------------------------------------------------------------------
// The library: loading and running scenarios
// ------------------------------------------------------------------------------------------

/// `--set` arguments (`key.path=value`) parsed.
pub fn overrides(sets: &[&str]) -> Vec<Override> {
    sets.iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("bad --set {s:?}: {e}")))
        .collect()
}

/// Loads scenario text (as `t.toml`, default name `t`) with `--set` arguments.
pub fn load_text(text: &str, sets: &[&str]) -> Loaded {
    cloudtwin::scenario::from_str(text, "t.toml", "t", None, &overrides(sets))
        .unwrap_or_else(|e| panic!("scenario does not load: {e}\n{text}"))
}

/// Loads a scenario file with `--set` arguments.
pub fn load_file(path: &Path, sets: &[&str]) -> Loaded {
    cloudtwin::scenario::load(path, &overrides(sets))
        .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

/// Runs a loaded scenario to its horizon.
pub fn run_loaded(loaded: &Loaded) -> RunOutput {
    let out = cloudtwin::run::simulate(loaded, &mut RunControl::none());
    assert!(!out.interrupted, "the run was interrupted");
    out
}

/// Loads scenario text (see [`load_text`]) and runs it.
pub fn run_text(text: &str, sets: &[&str]) -> RunOutput {
    run_loaded(&load_text(text, sets))
}

/// Loads a scenario file (see [`load_file`]) and runs it.
pub fn run_file(path: &Path, sets: &[&str]) -> RunOutput {
    run_loaded(&load_file(path, sets))
}

// ------------------------------------------------------------------------------------------
// Results of a run
// ------------------------------------------------------------------------------------------

/// An integer summary metric.
pub fn int(out: &RunOutput, metric: &str) -> i64 {
    match out.summary.get(metric) {
        Some(Value::Int(v)) => *v,
        other => panic!("summary metric {metric}: expected an integer, found {other:?}"),
    }
}

/// An integer summary metric that counts something (never negative).
pub fn count(out: &RunOutput, metric: &str) -> u64 {
    let v = int(out, metric);
    u64::try_from(v).unwrap_or_else(|_| panic!("summary metric {metric}: negative count {v}"))
}

/// A float summary metric.
pub fn float(out: &RunOutput, metric: &str) -> f64 {
    match out.summary.get(metric) {
        Some(Value::Float(v)) => *v,
        other => panic!("summary metric {metric}: expected a float, found {other:?}"),
    }
}

/// The table written as `name` (e.g. `file::VM_EVENTS`).
pub fn table<'a>(out: &'a RunOutput, name: &str) -> &'a Table {
    out.tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = out.tables.iter().map(|t| t.name.as_str()).collect();
            panic!("no table {name} among {names:?}")
        })
}

/// The index of column `name` of `t`.
pub fn col(t: &Table, name: &str) -> usize {
    t.header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{} has no column {name}: {:?}", t.name, t.header))
}

/// A table cell as a number.
pub fn num(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|e| panic!("cell {cell:?} is not a number: {e}"))
}

/// Every table of a run and its summary (`summary.csv`) as CSV bytes, by file name.
pub fn csvs(out: &RunOutput) -> BTreeMap<String, Vec<u8>> {
    let mut csvs = BTreeMap::new();
    csvs.insert(file::SUMMARY.to_string(), out.summary.to_csv().into_bytes());
    for t in &out.tables {
        assert!(
            csvs.insert(t.name.clone(), t.to_csv()).is_none(),
            "two tables named {}",
            t.name
        );
    }
    csvs
}

// ------------------------------------------------------------------------------------------
// Files and folders
// ------------------------------------------------------------------------------------------

/// Writes `text` as `<dir>/<name>` and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
    p
}

/// The names of the entries of `dir` (hidden ones included), sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()))
        .map(|e| {
            e.expect("readable folder entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// Every file under `dir` (sub-folders included), by `/`-separated relative path, with its
/// bytes.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let listing = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
        for e in listing {
            let p = e.expect("readable folder entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under the root");
                let bytes = std::fs::read(&p)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
                out.insert(rel.to_string_lossy().to_string(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A JSON file (e.g. a results folder's `manifest.json`).
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
