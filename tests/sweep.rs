//! Batch runs (`cloudtwin sweep`, `cloudtwin merge`): every file of a sweep is the same for 1, 2
//! or 4 threads, for 3 shards merged and for an unsharded sweep, and for a killed or partial
//! sweep resumed; a failing run is reported with its id and exit 1 while the others are kept;
//! bad `--vary` values exit 2 before anything is written; merge refuses missing and duplicate
//! runs; the `[sweep]` table and the library API give the same grid and seeds.
//!
//! Shards are 0-based (`--shard 0/3`, `1/3`, `2/3`). The only bytes allowed to differ between
//! two sweeps are the per-run `manifest.json`'s `wall_time_s` (removed before comparing).

mod common;

use cloudtwin::batch::{Axis, Shard, Sweep};
use cloudtwin::engine::RngFactory;
use cloudtwin::output::names::file;
use common::{
    binary_path, cloudtwin, entries, files, output_of, read_json, run_binary, write_file,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const TINY: &str = r#"
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
"#;

/// The grid of most tests: 2 points x 3 replications = 6 runs.
const VARY: &[&str] = &[
    "--vary",
    "lifecycle.create_failure_p=0.1,0.3",
    "--replications",
    "3",
];

/// Runs `cloudtwin sweep scenario --out out args...`; returns (exit code, stdout, stderr).
fn sweep(scenario: &Path, out: &Path, args: &[&str]) -> (i32, String, String) {
    output_of(
        cloudtwin()
            .arg("sweep")
            .arg(scenario)
            .arg("--out")
            .arg(out)
            .args(args),
    )
}

fn sweep_ok(scenario: &Path, out: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = sweep(scenario, out, args);
    assert_eq!(code, 0, "sweep failed\nstdout: {stdout}\nstderr: {stderr}");
    stdout
}

/// Runs `cloudtwin merge dirs... --out out`; returns (exit code, stderr).
fn merge(dirs: &[&Path], out: &Path) -> (i32, String) {
    let (code, _, stderr) = output_of(cloudtwin().arg("merge").args(dirs).arg("--out").arg(out));
    (code, stderr)
}

/// Every file under `dir` by relative path, with the runs' `wall_time_s` lines removed.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = files(dir);
    for (rel, bytes) in all.iter_mut() {
        if rel.ends_with(file::MANIFEST) && rel != file::SWEEP_MANIFEST {
            let text = String::from_utf8(std::mem::take(bytes)).unwrap();
            *bytes = text
                .lines()
                .filter(|l| !l.contains("\"wall_time_s\""))
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes();
        }
    }
    all
}

fn assert_same(a: &Path, b: &Path) {
    let (sa, sb) = (snapshot(a), snapshot(b));
    assert_eq!(
        sa.keys().collect::<Vec<_>>(),
        sb.keys().collect::<Vec<_>>(),
        "same files in {} and {}",
        a.display(),
        b.display()
    );
    for (k, v) in &sa {
        assert!(
            *v == sb[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The entries of `<dir>/runs`, sorted.
fn run_ids(dir: &Path) -> Vec<String> {
    entries(&dir.join(file::RUNS_DIR))
}

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = VARY.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn threads_do_not_change_a_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let outs: Vec<PathBuf> = ["1", "2", "4"]
        .iter()
        .map(|t| {
            let out = tmp.path().join(format!("t{t}"));
            let stdout = sweep_ok(&s, &out, &args(&["--threads", t]));
            assert!(stdout.contains("ran 6, skipped 0"), "{stdout}");
            out
        })
        .collect();
    assert_eq!(
        run_ids(&outs[0]),
        [
            "p000-r000",
            "p000-r001",
            "p000-r002",
            "p001-r000",
            "p001-r001",
            "p001-r002"
        ]
    );
    let summary = std::fs::read_to_string(outs[0].join(file::SWEEP_SUMMARY)).unwrap();
    assert!(
        summary.starts_with(
            "point,lifecycle.create_failure_p,metric,n,mean,sd,ci95_low,ci95_high\n\
             p000,0.1,events_processed,3,"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("\np001,0.3,vm_create_failures,3,"),
        "{summary}"
    );
    assert_same(&outs[0], &outs[1]);
    assert_same(&outs[0], &outs[2]);
}

#[test]
fn shards_merged_equal_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let whole = tmp.path().join("whole");
    sweep_ok(&s, &whole, &args(&["--threads", "2"]));

    let shards: Vec<PathBuf> = (0..3)
        .map(|i| {
            let out = tmp.path().join(format!("shard-{i}"));
            let stdout = sweep_ok(&s, &out, &args(&["--shard", &format!("{i}/3")]));
            assert!(stdout.contains("ran 2, skipped 0"), "{stdout}");
            assert!(
                !out.join(file::SWEEP_SUMMARY).exists(),
                "a shard alone writes no summary"
            );
            out
        })
        .collect();
    // Shard i holds the runs with index % 3 == i.
    assert_eq!(run_ids(&shards[0]), ["p000-r000", "p001-r000"]);
    assert_eq!(run_ids(&shards[1]), ["p000-r001", "p001-r001"]);
    let merged = tmp.path().join("merged");
    let dirs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let (code, stderr) = merge(&dirs, &merged);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&whole, &merged);

    // Shards sharing one folder: the last one to finish writes the summary, no merge needed.
    let shared = tmp.path().join("shared");
    for i in [2, 0, 1] {
        sweep_ok(&s, &shared, &args(&["--shard", &format!("{i}/3")]));
    }
    assert_same(&whole, &shared);
    // Merging a folder into itself is a no-op that keeps the bytes.
    let (code, stderr) = merge(&[&shared], &shared);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&whole, &shared);
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let explicit = tmp.path().join("explicit");
    sweep_ok(&s, &explicit, &args(&["--shard", "1/3"]));
    let run_auto = |out: &Path, env: &[(&str, &str)], extra: &[&str]| {
        let mut c = cloudtwin();
        c.arg("sweep").arg(&s).arg("--out").arg(out);
        c.args(args(&["--shard", "auto"])).args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("runs")
    };
    let slurm = tmp.path().join("slurm");
    let o = run_auto(
        &slurm,
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&explicit, &slurm);
    let k8s = tmp.path().join("k8s");
    let o = run_auto(
        &k8s,
        &[("JOB_COMPLETION_INDEX", "1")],
        &["--shard-count", "3"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&explicit, &k8s);

    let none = tmp.path().join("none");
    let o = run_auto(&none, &[], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("SLURM_ARRAY_TASK_ID") && err.contains("JOB_COMPLETION_INDEX"),
        "{err}"
    );
    let o = run_auto(&none, &[("JOB_COMPLETION_INDEX", "0")], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("CLOUDTWIN_SHARDS"));
    assert!(!none.exists(), "nothing written");
}

#[test]
fn a_partial_sweep_resumed_runs_only_the_missing_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let whole = tmp.path().join("whole");
    sweep_ok(&s, &whole, &args(&[]));

    // A sweep that got through a third of its runs (shard 0/3), then the whole sweep again.
    let out = tmp.path().join("out");
    sweep_ok(&s, &out, &args(&["--shard", "0/3"]));
    let before = files(&out.join(file::RUNS_DIR));
    let stdout = sweep_ok(&s, &out, &args(&[]));
    assert!(stdout.contains("ran 4, skipped 2"), "{stdout}");
    for (k, v) in &before {
        // Byte-identical including wall_time_s (`files`, not `snapshot`): the complete runs
        // were not run again.
        assert!(
            *v == files(&out.join(file::RUNS_DIR))[k],
            "{k} was rewritten"
        );
    }
    assert_same(&whole, &out);

    // Lost runs (deleted folders, a temporary folder left by a kill) are redone, nothing else.
    for id in ["p000-r001", "p001-r002"] {
        std::fs::remove_dir_all(out.join(file::RUNS_DIR).join(id)).unwrap();
    }
    std::fs::remove_file(out.join(file::SWEEP_SUMMARY)).unwrap();
    let stale = out.join("runs/.p000-r001.tmp-999999");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join(file::SUMMARY), "metric,value\n").unwrap();
    let stdout = sweep_ok(&s, &out, &args(&["--threads", "2"]));
    assert!(stdout.contains("ran 2, skipped 4"), "{stdout}");
    assert!(!stale.exists(), "stale temporary folder removed");
    assert_same(&whole, &out);

    // Nothing left: a re-run does nothing; --force redoes everything with the same bytes.
    let stdout = sweep_ok(&s, &out, &args(&[]));
    assert!(stdout.contains("ran 0, skipped 6"), "{stdout}");
    let stdout = sweep_ok(&s, &out, &args(&["--force"]));
    assert!(stdout.contains("ran 6, skipped 0"), "{stdout}");
    assert_same(&whole, &out);

    // Another sweep in the same folder is refused (exit 2) unless forced.
    let (code, _, stderr) = sweep(&s, &out, &["--replications", "2"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("another sweep"), "{stderr}");
}

#[test]
fn a_killed_sweep_resumed_completes_identically() {
    let tmp = tempfile::tempdir().unwrap();
    // Runs of about a tenth of a second each in a debug build, so the kill lands mid-sweep.
    let text = TINY
        .replace("vms_per_cloud = 2", "vms_per_cloud = 30")
        .replace("enabled = false", "enabled = true");
    let s = write_file(tmp.path(), "slow.toml", &text);
    let grid = [
        "--vary",
        "topology.vms_per_cloud=20,30",
        "--replications",
        "4",
    ];
    let whole = tmp.path().join("whole");
    sweep_ok(&s, &whole, &grid);

    let out = tmp.path().join("out");
    let mut child = std::process::Command::new(binary_path())
        .arg("sweep")
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .args(grid)
        .args(["--threads", "1", "--quiet"])
        .spawn()
        .expect("starts");
    // Kill (SIGKILL: no clean-up at all) once the first run is in place.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !out.join("runs/p000-r000/manifest.json").exists() {
        assert!(std::time::Instant::now() < deadline, "no run completed");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = run_ids(&out).iter().filter(|n| !n.starts_with('.')).count();
    assert!(done >= 1);
    eprintln!("killed with {done} of 8 runs complete");

    let stdout = sweep_ok(&s, &out, &grid);
    assert!(
        stdout.contains(&format!("ran {}, skipped {done}", 8 - done)),
        "{done} runs were complete at the kill: {stdout}"
    );
    assert_same(&whole, &out);
}

#[test]
fn a_failing_run_is_reported_and_the_others_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let out = tmp.path().join("out");
    sweep_ok(&s, &out, &args(&["--shard", "0/2"]));
    // Something that is not a results folder where run p001-r000 (shard 1/2) must go: its
    // write fails.
    let blocker = out.join("runs/p001-r000");
    std::fs::create_dir_all(&blocker).unwrap();
    std::fs::write(blocker.join("notes.txt"), "keep me").unwrap();

    let (code, stdout, stderr) = sweep(&s, &out, &args(&[]));
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("run p001-r000"), "{stderr}");
    assert!(
        stderr.contains("1 of 3 runs failed (p001-r000)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("ran 2, skipped 3 (already complete), failed 1"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(blocker.join("notes.txt")).unwrap(),
        "keep me"
    );
    for id in [
        "p000-r000",
        "p000-r001",
        "p000-r002",
        "p001-r001",
        "p001-r002",
    ] {
        assert!(
            out.join(file::RUNS_DIR)
                .join(id)
                .join(file::SUMMARY)
                .is_file(),
            "{id} kept"
        );
    }
    let m = read_json(&out.join(file::SWEEP_MANIFEST));
    let failed: Vec<&str> = m["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["p001-r000"]);
    // The summary covers the complete runs: n = 2 for the point with the failed run.
    let summary = std::fs::read_to_string(out.join(file::SWEEP_SUMMARY)).unwrap();
    assert!(
        summary.contains("\np000,0.1,events_processed,3,"),
        "{summary}"
    );
    assert!(
        summary.contains("\np001,0.3,events_processed,2,"),
        "{summary}"
    );

    // Fixed, the same command completes the sweep.
    std::fs::remove_dir_all(&blocker).unwrap();
    let stdout = sweep_ok(&s, &out, &args(&[]));
    assert!(stdout.contains("ran 1, skipped 5"), "{stdout}");
    let whole = tmp.path().join("whole");
    sweep_ok(&s, &whole, &args(&[]));
    assert_same(&whole, &out);
}

#[test]
fn bad_vary_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let out = tmp.path().join("out");
    for (vary, expect) in [
        (
            "lifecycle.create_failur_p=0.1,0.3",
            "point p000 (lifecycle.create_failur_p=0.1)",
        ),
        (
            "lifecycle.create_failure_p=0.1,1.5",
            "point p001 (lifecycle.create_failure_p=1.5)",
        ),
        (
            "topology.vms_per_cloud=2,many",
            "key `topology.vms_per_cloud`",
        ),
        ("lifecycle.create_failure_p=0.1,,0.2", "empty value"),
        ("lifecycle.create_failure_p", "expected key.path=value"),
        ("simulation.seed=1,2", "--replications"),
    ] {
        let (code, _, stderr) = sweep(&s, &out, &["--vary", vary]);
        assert_eq!(code, 2, "--vary {vary}: {stderr}");
        assert!(stderr.contains(expect), "--vary {vary}: {stderr}");
        assert!(!out.exists(), "--vary {vary} wrote something");
    }
    for bad in [
        &["--replications", "0"][..],
        &["--threads", "0"],
        &["--shard", "3/3"],
        &["--shard", "1/3", "--shard-count", "3"],
        &["--set", "lifecycle.create_failure_p=0.2"],
    ] {
        let (code, _, stderr) = sweep(&s, &out, &args(bad));
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert!(!out.exists(), "{bad:?} wrote something");
    }
    // A folder that is not a sweep folder is never written into, even with --force.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("thesis.tex"), "keep").unwrap();
    let (code, _, stderr) = sweep(&s, &out, &args(&["--force"]));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn merge_detects_missing_and_duplicate_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| {
            let out = tmp.path().join(format!("shard-{i}"));
            sweep_ok(&s, &out, &args(&["--shard", &format!("{i}/3")]));
            out
        })
        .collect();
    let merged = tmp.path().join("merged");

    let (code, stderr) = merge(&[&shards[0], &shards[1]], &merged);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("2 missing") && stderr.contains("p000-r002, p001-r002"),
        "{stderr}"
    );
    assert!(!merged.exists(), "nothing written");

    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for f in std::fs::read_dir(from).unwrap() {
            let f = f.unwrap().path();
            if f.is_dir() {
                // plots/ of the run's report.
                let sub = to.join(f.file_name().unwrap());
                std::fs::create_dir_all(&sub).unwrap();
                for g in std::fs::read_dir(&f).unwrap() {
                    let g = g.unwrap().path();
                    std::fs::copy(&g, sub.join(g.file_name().unwrap())).unwrap();
                }
                continue;
            }
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    };
    copy(
        &shards[0].join("runs/p000-r000"),
        &shards[1].join("runs/p000-r000"),
    );
    let (code, stderr) = merge(&[&shards[0], &shards[1], &shards[2]], &merged);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("1 present more than once") && stderr.contains("p000-r000 (in "),
        "{stderr}"
    );
    assert!(!merged.exists(), "nothing written");

    // Another sweep's folder is refused (exit 2).
    let other = tmp.path().join("other");
    sweep_ok(&s, &other, &["--replications", "2"]);
    let (code, stderr) = merge(&[&shards[0], &other], &merged);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another sweep"), "{stderr}");
}

#[test]
fn sweep_table_in_the_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "{TINY}\n[sweep]\nreplications = 3\nvary = {{ \"lifecycle.create_failure_p\" = [0.1, 0.3] }}\n"
    );
    let s = write_file(tmp.path(), "tiny.toml", &text);
    let from_table = tmp.path().join("table");
    sweep_ok(&s, &from_table, &[]);
    let plain = write_file(tmp.path(), "tiny.toml.plain", TINY);
    let from_cli = tmp.path().join("cli");
    sweep_ok(&plain, &from_cli, VARY);
    // Same grid, same seeds, same per-run files (only the scenario file's hash differs).
    let (a, b) = (snapshot(&from_table), snapshot(&from_cli));
    for (k, v) in &a {
        if k.ends_with(file::SUMMARY) || k.ends_with(file::SCENARIO) || k.ends_with("_states.csv") {
            assert!(*v == b[k], "{k} differs");
        }
    }
    // Each run's scenario.toml is a plain scenario (no [sweep]); `run` ignores the table.
    let run_toml =
        std::fs::read_to_string(from_table.join("runs/p001-r002/scenario.toml")).unwrap();
    assert!(!run_toml.contains("[sweep"), "{run_toml}");
    run_binary(&s, &tmp.path().join("single"), &[]);
    // A --vary of a key of the table replaces its values.
    let replaced = tmp.path().join("replaced");
    sweep_ok(
        &s,
        &replaced,
        &["--vary", "lifecycle.create_failure_p=0.2", "-r", "1"],
    );
    assert_eq!(run_ids(&replaced), ["p000-r000"]);
}

#[test]
fn library_plan_seeds_and_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let s = write_file(tmp.path(), "tiny.toml", TINY);
    let axes = [
        Axis::parse("lifecycle.create_failure_p=0.1,0.3").unwrap(),
        Axis::parse("topology.vms_per_cloud=1,2").unwrap(),
    ];
    let sweep = Sweep::prepare(&s, &[], &axes, Some(2), None).unwrap();
    let plan = &sweep.plan;
    assert_eq!(plan.grid.len(), 4);
    assert_eq!(plan.runs.len(), 8);
    assert_eq!(
        plan.grid.describe(1),
        "lifecycle.create_failure_p=0.1, topology.vms_per_cloud=2"
    );
    let f = RngFactory::new(17);
    for r in &plan.runs {
        let expect = f.derive_seed(&[r.point as u64, r.replication as u64]) & (i64::MAX as u64);
        assert_eq!(r.seed, expect, "{}", r.id);
        let loaded = sweep.load_run(r).unwrap();
        assert_eq!(loaded.scenario.simulation.seed, r.seed);
        assert!(loaded.scenario.sweep.is_none());
    }
    assert_eq!(sweep.default_out_dir(), Path::new("results/tiny-sweep"));
    assert!(Shard::parse("2/3").unwrap().contains(5));

    // sweep_summary.csv's mean/sd/CI are those of the runs' summary.csv values.
    let out = tmp.path().join("out");
    sweep_ok(&s, &out, VARY);
    let values: Vec<f64> = (0..3)
        .map(|r| {
            let t =
                std::fs::read_to_string(out.join(format!("runs/p001-r00{r}/summary.csv"))).unwrap();
            let line = t
                .lines()
                .find(|l| l.starts_with("provision_settled_s,"))
                .unwrap();
            line.split(',').nth(1).unwrap().parse().unwrap()
        })
        .collect();
    let mean = values.iter().sum::<f64>() / 3.0;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = cloudtwin::stats::student_t_975(2) * sd / 3f64.sqrt();
    let summary = std::fs::read_to_string(out.join(file::SWEEP_SUMMARY)).unwrap();
    let row = summary
        .lines()
        .find(|l| l.starts_with("p001,0.3,provision_settled_s,"))
        .unwrap();
    let cells: Vec<f64> = row.split(',').skip(3).map(|c| c.parse().unwrap()).collect();
    assert_eq!(cells[0], 3.0);
    assert!((cells[1] - mean).abs() < 1e-9, "{row}");
    assert!((cells[2] - sd).abs() < 1e-9, "{row}");
    assert!((cells[3] - (mean - half)).abs() < 1e-9, "{row}");
    assert!((cells[4] - (mean + half)).abs() < 1e-9, "{row}");
}
