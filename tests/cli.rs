//! The `cloudtwin` command line: `validate` prints the resolved scenario, `run` writes a
//! complete results folder (manifest.json, summary.csv, clouds.csv, engine.csv, scenario.toml),
//! refuses to overwrite without `--force`, honours `--seed` (also in the default folder name),
//! and clap usage errors / `--help` / `bench` map to the documented exit codes.

mod common;

use cloudtwin::output::names::{file, metric};
use common::{
    cloudtwin, default_scenario, entries, files, output_of, read_json, run_binary, run_command,
    stdout_of, write_file,
};
use std::collections::BTreeMap;

const SMALL: &str = r#"
[simulation]
name = "small"
seed = 42
duration = "10m"
sample_interval = "30s"

[topology]
vms_per_cloud = 3
clouds = ["azure:westeurope"]
mix = { aws = 2, gcp = 1 }

[lifecycle]
api_delay = { dist = "uniform", min = "5s", max = "10s" }
create_failure_p = 0.2

[monitoring]
interval = "5s"
"#;

#[test]
fn validate_prints_the_resolved_default_scenario() {
    let out = stdout_of(cloudtwin().arg("validate").arg(default_scenario()));
    assert!(out.contains("seed = 20201119"), "{out}");
    assert!(out.contains("# resolved: 100 clouds"), "{out}");
    assert!(out.contains("10000 VMs"), "{out}");
}

#[test]
fn validate_applies_set() {
    let out = stdout_of(
        cloudtwin()
            .arg("validate")
            .arg(default_scenario())
            .args(["--set", "simulation.seed=7"]),
    );
    assert!(out.lines().any(|l| l.trim() == "seed = 7"), "{out}");
    assert!(!out.contains("20201119"), "{out}");
}

#[test]
fn run_writes_a_complete_results_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_file(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("out");
    run_binary(&scenario, &out, &[]);

    for f in [
        file::MANIFEST,
        file::SUMMARY,
        file::CLOUDS,
        file::ENGINE,
        file::SCENARIO,
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let leftovers = entries(tmp.path());
    assert_eq!(
        leftovers.len(),
        2,
        "only the scenario and out/: {leftovers:?}"
    );

    let summary = std::fs::read_to_string(out.join(file::SUMMARY)).unwrap();
    let mut lines = summary.lines();
    assert_eq!(lines.next(), Some("metric,value"));
    let rows: BTreeMap<&str, &str> = lines.filter_map(|l| l.split_once(',')).collect();
    let events: u64 = rows[metric::EVENTS_PROCESSED]
        .parse()
        .expect("integer events");
    assert!(events > 0, "{summary}");
    assert_eq!(rows[metric::SIM_TIME_S], "600", "{summary}");

    let clouds = std::fs::read_to_string(out.join(file::CLOUDS)).unwrap();
    assert_eq!(
        clouds.lines().count(),
        1 + 4,
        "header + 4 clouds:\n{clouds}"
    );
    assert!(
        clouds.lines().nth(1).unwrap().contains("azure:westeurope"),
        "{clouds}"
    );

    let m = read_json(&out.join(file::MANIFEST));
    assert_eq!(m["seed"], 42);
    assert_eq!(m[metric::EVENTS_PROCESSED].as_u64(), Some(events));
    let sha = m["scenario_sha256"].as_str().expect("sha string");
    assert_eq!(sha.len(), 64, "{sha}");
    assert!(
        sha.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{sha}"
    );
    assert!(m["scenario"].is_object(), "{m}");
    assert_eq!(m["scenario"]["simulation"]["name"], "small");
    assert!(m["wall_time_s"].is_number());

    let resolved = std::fs::read_to_string(out.join(file::SCENARIO)).unwrap();
    assert!(resolved.contains("seed = 42"), "{resolved}");
}

/// The time column of a results table.
fn times(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

#[test]
fn time_series_end_at_the_horizon_between_two_samples() {
    let tmp = tempfile::tempdir().unwrap();
    // 10 min 15 s: the last periodic sample is at 600 s, the run ends 15 s later.
    let scenario = write_file(
        tmp.path(),
        "small.toml",
        &SMALL.replace("duration = \"10m\"", "duration = \"10m15s\""),
    );
    let out = tmp.path().join("out");
    run_binary(&scenario, &out, &[]);
    let engine = times(&out.join(file::ENGINE));
    assert_eq!(engine.len(), 22, "0, 30, ..., 600 and 615: {engine:?}");
    assert_eq!(engine[20..], ["600", "615"], "{engine:?}");
    let monitoring = times(&out.join(file::MONITORING));
    assert_eq!(monitoring, engine, "every time series gets the row");
    // The estimate counts it too.
    let v = stdout_of(cloudtwin().arg("validate").arg(&scenario));
    let line = v
        .lines()
        .find(|l| l.contains(file::ENGINE))
        .expect("engine.csv estimated");
    assert!(line.contains("~22 rows"), "{line}");

    // A duration that is a multiple of the interval gets no extra row.
    let scenario = write_file(tmp.path(), "even.toml", SMALL);
    let out = tmp.path().join("even");
    run_binary(&scenario, &out, &[]);
    let engine = times(&out.join(file::ENGINE));
    assert_eq!(engine.len(), 21, "{engine:?}");
    assert_eq!(engine.last().map(String::as_str), Some("600"));
}

#[test]
fn run_refuses_an_existing_folder_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_file(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("out");
    let run = |extra: &[&str]| run_command(&scenario, &out, extra).output().unwrap();
    assert!(run(&[]).status.success());
    // Mark the folder so a rewrite would be visible even if the bytes came out equal.
    std::fs::write(out.join("marker.txt"), b"keep me").unwrap();
    let before = files(&out);

    let o = run(&["--seed", "9"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("already exists"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(files(&out), before, "the existing folder is untouched");
    assert_eq!(
        entries(tmp.path()).len(),
        2,
        "no temporary folder left behind"
    );

    let o = run(&["--force", "--seed", "9"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.join("marker.txt").exists(), "the folder was replaced");
    assert_eq!(read_json(&out.join(file::MANIFEST))["seed"], 9);
    assert_eq!(
        entries(tmp.path()).len(),
        2,
        "no temporary or old folder left behind"
    );
}

#[test]
fn seed_option_sets_the_manifest_and_the_default_folder() {
    let src = tempfile::tempdir().unwrap();
    let scenario = write_file(src.path(), "small.toml", SMALL);
    let cwd = tempfile::tempdir().unwrap();
    cloudtwin()
        .current_dir(cwd.path())
        .arg("run")
        .arg(&scenario)
        .args(["--seed", "5", "--quiet"])
        .assert()
        .success();
    let dir = cwd.path().join("results/small-seed5");
    assert!(dir.is_dir(), "results/small-seed5 missing");
    let results = entries(&cwd.path().join("results"));
    assert_eq!(results.len(), 1, "{results:?}");
    let m = read_json(&dir.join(file::MANIFEST));
    assert_eq!(m["seed"], 5);
    assert_eq!(m["scenario"]["simulation"]["seed"], 5);
}

#[test]
fn default_name_comes_from_the_file_name() {
    let src = tempfile::tempdir().unwrap();
    let text = SMALL.replace("name = \"small\"\n", "");
    let scenario = write_file(src.path(), "unnamed-test.toml", &text);
    let cwd = tempfile::tempdir().unwrap();
    cloudtwin()
        .current_dir(cwd.path())
        .arg("run")
        .arg(&scenario)
        .arg("--quiet")
        .assert()
        .success();
    assert!(
        cwd.path()
            .join("results/unnamed-test-seed42/manifest.json")
            .is_file()
    );
}

#[test]
fn run_prints_a_summary_unless_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_file(tmp.path(), "small.toml", SMALL);
    let out = stdout_of(
        cloudtwin()
            .arg("run")
            .arg(&scenario)
            .arg("--out")
            .arg(tmp.path().join("a")),
    );
    assert!(out.contains(metric::EVENTS_PROCESSED), "{out}");
    assert!(out.contains("results: "), "{out}");
    let quiet = run_command(&scenario, &tmp.path().join("b"), &[])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(
        quiet.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stdout)
    );
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

#[test]
fn help_and_version_exit_0() {
    let out = stdout_of(cloudtwin().arg("--help"));
    for cmd in ["run", "validate", "bench"] {
        assert!(out.contains(cmd), "{out}");
    }
    let out = stdout_of(cloudtwin().args(["run", "--help"]));
    assert!(out.contains("--seed") && out.contains("--force"), "{out}");
    cloudtwin().arg("--version").assert().code(0);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &[][..],
        &["run"][..],
        &["validate"][..],
        &["run", "x.toml", "--seed", "abc"][..],
        &["run", "x.toml", "--no-such-flag"][..],
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let o = cloudtwin()
            .current_dir(tmp.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "cloudtwin {args:?}");
        assert!(!o.stderr.is_empty(), "cloudtwin {args:?} explains itself");
        assert!(entries(tmp.path()).is_empty());
    }
}

#[test]
fn bench_runs() {
    let out = stdout_of(cloudtwin().args([
        "bench",
        "--entities",
        "100",
        "--sim-seconds",
        "10",
        "--repeat",
        "1",
    ]));
    assert!(out.contains("events/s"), "{out}");
}

/// A scenario workload on two threads says how often each waited for the other; on one
/// thread there is nothing to say.
#[test]
fn bench_says_which_thread_waited() {
    let run = |threads: &str| {
        stdout_of(cloudtwin().args([
            "bench",
            "monitoring-only",
            "--sim-seconds",
            "60",
            "--threads",
            threads,
        ]))
    };
    let two = run("2");
    assert!(two.contains(", 2 threads"), "{two}");
    let line = two
        .lines()
        .find(|l| l.trim_start().starts_with("waited"))
        .unwrap_or_else(|| panic!("no waits: {two}"));
    // "waited  engine 0.000 s on 0.0%, collecting side 0.012 s on 62.7% of 118 batches"
    assert!(
        line.contains("engine ") && line.contains("collecting side ") && line.ends_with(" batches"),
        "{line}"
    );
    assert_eq!(line.matches(" s on ").count(), 2, "{line}");
    let one = run("1");
    assert!(one.contains(", 1 thread"), "{one}");
    assert!(!one.contains("waited"), "{one}");
}

/// Output into a pipe nobody reads any more (`cloudtwin bench | head -1`) is dropped, not a
/// panic: the command finishes its work and exits 0. The pipe's reader is closed before the
/// command starts, so every write fails.
#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let small = write_file(tmp.path(), "small.toml", SMALL);
    let folder = tmp.path().join("out");
    let commands: [Vec<std::ffi::OsString>; 3] = [
        ["bench", "--entities", "100", "--sim-seconds", "10"]
            .map(Into::into)
            .into(),
        vec!["validate".into(), default_scenario().into()],
        vec![
            "run".into(),
            small.into(),
            "--out".into(),
            folder.clone().into(),
        ],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("cloudtwin"))
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?}\n{err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(folder.join(file::SUMMARY).is_file(), "the run's results");
}

/// The machine's random access: a figure per footprint; a footprint of nothing, or larger than
/// the machine's memory, is refused with exit 2 before anything is allocated.
#[test]
fn bench_memory_probes_and_refuses_what_cannot_fit() {
    let out = stdout_of(cloudtwin().args([
        "bench",
        "memory",
        "--footprint",
        "1",
        "--footprint",
        "2",
        "--accesses",
        "100000",
    ]));
    let rows: Vec<Vec<f64>> = out
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    for (row, mb) in rows.iter().zip([1.0, 2.0]) {
        assert_eq!(row[0], mb, "{out}");
        assert!(row[1..].iter().all(|v| v.is_finite() && *v > 0.0), "{out}");
    }
    // Refusals: exit 2, the error naming what was asked for (and the override where there is
    // one), nothing on stdout. The last is work that would not end within the hour.
    let refusals: [([&str; 4], &[&str]); 3] = [
        (
            ["--footprint", "0", "--accesses", "100000"],
            &["--footprint must be > 0 MB"],
        ),
        (
            ["--footprint", "100000000000", "--accesses", "100000"],
            &["--footprint 100000000000", "--no-size-check"],
        ),
        (
            ["--footprint", "1", "--accesses", "1000000000000"],
            &["--accesses 1000000000000", "--no-size-check"],
        ),
    ];
    for (args, names) in refusals {
        let (code, out, err) = output_of(cloudtwin().args(["bench", "memory"]).args(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        for name in names {
            assert!(err.contains(name), "{args:?}: no {name:?} in {err}");
        }
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn bench_refuses_zero_sizes() {
    cloudtwin()
        .args(["bench", "--entities", "0"])
        .assert()
        .code(2);
}

#[test]
fn force_onto_a_file_is_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_file(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("out");
    std::fs::write(&out, b"not a folder").unwrap();
    let o = run_command(&scenario, &out, &["--force"]).output().unwrap();
    assert_eq!(entries(tmp.path()), ["out", "small.toml"], "no leftovers");
    match o.status.code() {
        // Either the file is replaced by a complete results folder...
        Some(0) => assert!(out.join(file::MANIFEST).is_file()),
        // ...or it is refused and left untouched.
        Some(2) => assert_eq!(std::fs::read(&out).unwrap(), b"not a folder"),
        c => panic!("exit {c:?}: {}", String::from_utf8_lossy(&o.stderr)),
    }
}

/// The engine workloads' phases in id order run the same events as random phases (the same
/// instants, other entities), and say which layout they ran.
#[test]
fn bench_phases_in_id_order_run_the_same_events() {
    let events = |phases: &str| {
        let (code, out, err) = output_of(cloudtwin().args([
            "bench",
            "periodic",
            "--entities",
            "1000",
            "--sim-seconds",
            "20",
            "--fel",
            "calendar",
            "--phases",
            phases,
        ]));
        assert_eq!(code, 0, "{err}");
        let header = out.lines().next().unwrap_or_default().to_string();
        let calendar = out
            .lines()
            .find(|l| l.starts_with("calendar"))
            .unwrap_or_else(|| panic!("no calendar row: {out}"));
        let events: u64 = calendar.split_whitespace().nth(1).unwrap().parse().unwrap();
        (header, events)
    };
    let (random, a) = events("random");
    let (sorted, b) = events("in-id-order");
    assert!(random.contains("phases Random"), "{random}");
    assert!(sorted.contains("phases InIdOrder"), "{sorted}");
    assert_eq!(a, 4_000, "1,000 timers firing every 5 s for 20 s");
    assert_eq!(a, b);
}

/// The engine workloads in groups, window by window: the same events as one list, the grouping
/// named in the header; groups that cannot fit, a window without groups, or groups for a
/// scenario workload are refused with exit 2 before anything runs.
#[test]
fn bench_in_groups_runs_the_same_events_and_refuses_what_cannot_fit() {
    let run = |extra: &[&str]| {
        let (code, out, err) = output_of(
            cloudtwin()
                .args([
                    "bench",
                    "churn",
                    "--entities",
                    "1000",
                    "--sim-seconds",
                    "20",
                ])
                .args(["--fel", "calendar"])
                .args(extra),
        );
        assert_eq!(code, 0, "{extra:?}: {err}");
        let calendar = out
            .lines()
            .find(|l| l.starts_with("calendar"))
            .unwrap_or_else(|| panic!("no calendar row: {out}"));
        let events: u64 = calendar.split_whitespace().nth(1).unwrap().parse().unwrap();
        (out.lines().next().unwrap_or_default().to_string(), events)
    };
    let (_, whole) = run(&[]);
    let (header, grouped) = run(&["--partition-size", "64", "--window-seconds", "3"]);
    assert_eq!(grouped, whole);
    assert!(
        header.contains("in groups of 64 run 3 simulated s at a time"),
        "{header}"
    );
    for (args, says) in [
        (
            // The timers alone would fit (3 GB); 20 million event lists of 26 kB would not.
            vec![
                "--entities",
                "20000000",
                "--partition-size",
                "1",
                "--sim-seconds",
                "1",
            ],
            "20,000,000 groups",
        ),
        (vec!["--window-seconds", "5"], "--partition-size"),
        (vec!["--partition-size", "0"], "--partition-size"),
        (
            vec!["scale-1m", "--partition-size", "10"],
            "engine workloads",
        ),
    ] {
        let (code, out, err) = output_of(cloudtwin().arg("bench").args(&args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}
