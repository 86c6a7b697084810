//! Parquet output (`output.formats`): every table of a run is also (or only) written as
//! `<table>.parquet`, byte-identical for the same seed, holding the CSV files' values with
//! typed columns; `report` and `merge` read folders written in either format; sweeps write
//! `sweep_summary.parquet`; a bad `output.formats` exits 2 naming the key and writes nothing.

mod common;

use arrow_schema::DataType;
use cloudtwin::output::names::file;
use cloudtwin::output::parquet;
use common::{cloudtwin, entries, files, output_of, run_binary, run_command, write_file};
use std::path::Path;

const TINY: &str = r#"
[simulation]
name = "tiny"
seed = 5
duration = "10m"
sample_interval = "30s"

[topology]
vms_per_cloud = 3
mix = { aws = 1, gcp = 1 }

[lifecycle]
api_delay = { dist = "uniform", min = "5s", max = "10s" }
create_failure_p = 0.2

[output]
vm_events = true
report = false
"#;

const BOTH: &str = r#"output.formats=["csv", "parquet"]"#;
const ONLY: &str = r#"output.formats=["parquet"]"#;

/// Two cells hold the same value: equal text, or equal numbers (`1.50` and `1.5`).
fn same_value(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// The tables (`.csv` files) of a results folder.
fn csv_files(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect()
}

#[test]
fn parquet_files_are_byte_identical_and_hold_the_csv_values() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_binary(&s, &a, &["--set", BOTH]);
    run_binary(&s, &b, &["--set", BOTH]);
    let (fa, fb) = (files(&a), files(&b));
    let tables = csv_files(&a);
    assert!(tables.len() >= 6, "{tables:?}");
    assert!(tables.iter().any(|t| t == file::VM_EVENTS));
    for t in &tables {
        let pq = parquet::file_name(t);
        assert!(fa.contains_key(&pq), "{pq} is missing beside {t}");
        assert!(
            fa[&pq] == fb[&pq],
            "{pq} differs between two runs of one seed"
        );
        // Value for value, row for row.
        let csv = cloudtwin::output::Table::from_csv(t, &fa[t]).unwrap();
        let back = parquet::read_table(&a.join(&pq), t).unwrap();
        assert_eq!(back.header, csv.header, "{t}");
        assert_eq!(back.len(), csv.len(), "{t}");
        for (i, (x, y)) in csv.rows().iter().zip(back.rows()).enumerate() {
            for (c, (u, v)) in x.iter().zip(y).enumerate() {
                assert!(
                    same_value(u, v),
                    "{t} row {i} column {}: {u:?} in CSV, {v:?} in Parquet",
                    csv.header[c]
                );
            }
        }
    }
    // Typed columns: times as float seconds, counts as integers, names as text.
    let (schema, _) = parquet::read_batches(&a.join("vm_events.parquet")).unwrap();
    let ty = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(ty("time_s"), DataType::Float64);
    assert_eq!(ty("cloud"), DataType::Utf8);
    let (schema, _) = parquet::read_batches(&a.join("clouds.parquet")).unwrap();
    assert_eq!(
        schema.field_with_name("vms").unwrap().data_type(),
        &DataType::Int64
    );
    let (schema, _) = parquet::read_batches(&a.join("summary.parquet")).unwrap();
    assert_eq!(
        schema.field_with_name("value").unwrap().data_type(),
        &DataType::Float64
    );
}

#[test]
fn a_parquet_only_run_reports_like_a_csv_run() {
    let tmp = tempfile::tempdir().unwrap();
    let text = TINY.replace("report = false", "report = true");
    let s = write_file(tmp.path(), "tiny.toml", &text);
    let (csv, pq) = (tmp.path().join("csv"), tmp.path().join("pq"));
    run_binary(&s, &csv, &[]);
    run_binary(&s, &pq, &["--set", ONLY]);
    assert!(csv_files(&pq).is_empty(), "{:?}", entries(&pq));
    assert!(pq.join("summary.parquet").is_file());
    assert!(!csv.join("summary.parquet").exists(), "CSV only by default");
    // The same plots, drawn from the same values.
    let plots = |d: &Path| files(&d.join(file::PLOTS_DIR));
    let (pc, pp) = (plots(&csv), plots(&pq));
    assert!(!pc.is_empty());
    assert_eq!(pc.keys().collect::<Vec<_>>(), pp.keys().collect::<Vec<_>>());
    for (k, v) in &pc {
        if k.ends_with(".svg") {
            assert!(
                *v == pp[k],
                "plot {k} differs between the CSV and Parquet runs"
            );
        }
    }
    // `cloudtwin report` rebuilds it from the Parquet files alone.
    std::fs::remove_dir_all(pq.join(file::PLOTS_DIR)).unwrap();
    std::fs::remove_file(pq.join(file::REPORT)).unwrap();
    let (code, _, stderr) = output_of(cloudtwin().arg("report").arg(&pq).arg("--quiet"));
    assert_eq!(code, 0, "{stderr}");
    assert!(pq.join(file::REPORT).is_file());
    assert_eq!(
        plots(&pq).keys().collect::<Vec<_>>(),
        pc.keys().collect::<Vec<_>>()
    );
}

#[test]
fn bad_formats_exit_2_naming_the_key_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let out = tmp.path().join("out");
    for (set, expect) in [
        ("output.formats=[]", "empty"),
        (r#"output.formats=["xlsx"]"#, "xlsx"),
        (r#"output.formats=["csv", "csv"]"#, "twice"),
        ("output.formats=csv", "output.formats"),
    ] {
        let (code, _, stderr) = output_of(&mut run_command(&s, &out, &["--set", set]));
        assert_eq!(code, 2, "--set {set}: {stderr}");
        assert!(stderr.contains("output.formats"), "--set {set}: {stderr}");
        assert!(stderr.contains(expect), "--set {set}: {stderr}");
        assert!(!out.exists(), "--set {set} wrote {}", out.display());
    }
    // In the file: the error names the file, line and key.
    let bad = write_file(
        tmp.path(),
        "bad.toml",
        &TINY.replace("report = false", "report = false\nformats = [\"orc\"]"),
    );
    let (code, _, stderr) = output_of(&mut run_command(&bad, &out, &[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.toml:"), "{stderr}");
    assert!(stderr.contains("output.formats"), "{stderr}");
    assert!(
        stderr.contains("parquet"),
        "lists the valid formats: {stderr}"
    );
}

#[test]
fn sweeps_and_merges_read_and_write_parquet() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let sweep = |out: &Path, extra: &[&str]| {
        let (code, stdout, stderr) = output_of(
            cloudtwin()
                .arg("sweep")
                .arg(&s)
                .arg("--out")
                .arg(out)
                .args(["--vary", "lifecycle.create_failure_p=0.1,0.3"])
                .args(["--replications", "2", "--quiet"])
                .args(extra),
        );
        assert_eq!(code, 0, "{stdout}\n{stderr}");
    };
    let whole = tmp.path().join("whole");
    sweep(&whole, &["--set", ONLY]);
    let pq_name = parquet::file_name(file::SWEEP_SUMMARY);
    assert!(whole.join(&pq_name).is_file());
    assert!(!whole.join(file::SWEEP_SUMMARY).exists());
    // The same statistics as a CSV sweep's.
    let csv_sweep = tmp.path().join("csv");
    sweep(&csv_sweep, &[]);
    let expected = cloudtwin::output::Table::from_csv(
        "s.csv",
        &std::fs::read(csv_sweep.join(file::SWEEP_SUMMARY)).unwrap(),
    )
    .unwrap();
    let got = parquet::read_table(&whole.join(&pq_name), "s.csv").unwrap();
    assert_eq!(got.header, expected.header);
    assert_eq!(got.len(), expected.len());
    for (x, y) in expected.rows().iter().zip(got.rows()) {
        assert!(
            x.iter().zip(y).all(|(u, v)| same_value(u, v)),
            "{x:?} != {y:?}"
        );
    }
    // Shards of a Parquet-only sweep merge into the same summary bytes.
    let shards: Vec<_> = (0..2)
        .map(|i| {
            let out = tmp.path().join(format!("shard-{i}"));
            sweep(&out, &["--set", ONLY, "--shard", &format!("{i}/2")]);
            out
        })
        .collect();
    let merged = tmp.path().join("merged");
    let (code, _, stderr) = output_of(
        cloudtwin()
            .arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(&merged)
            .arg("--quiet"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read(merged.join(&pq_name)).unwrap(),
        std::fs::read(whole.join(&pq_name)).unwrap()
    );
    assert!(!merged.join(file::SWEEP_SUMMARY).exists());
}
