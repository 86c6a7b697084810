//! Determinism: the same scenario and seed give byte-identical results, through the binary
//! (every CSV and scenario.toml equal, manifest.json equal but for `wall_time_s`) and through the
//! library (`scenario::from_str` + `run::simulate`). The topology does not depend on the seed.

mod common;

use cloudtwin::output::names::{file, metric};
use cloudtwin::output::summary::Value;
use common::{csvs, files, load_file, run_binary, run_text, scenario_path, write_file};
use std::path::PathBuf;

const SMALL: &str = r#"
[simulation]
name = "det"
seed = 11
duration = "10m"
sample_interval = "15s"

[topology]
vms_per_cloud = 4
clouds = ["gcp:europe-west3", { provider = "aws", region = "us-east-1", vms = 2 }]
mix = { azure = 2, alibaba = 1 }

[lifecycle]
api_delay = { dist = "lognormal", median = "6s", sigma = 0.4 }
create_failure_p = 0.2

[monitoring]
interval = "5s"
"#;

fn manifest_without_wall_time(bytes: &[u8]) -> serde_json::Value {
    let mut m: serde_json::Value = serde_json::from_slice(bytes).expect("manifest is JSON");
    let obj = m.as_object_mut().expect("manifest is an object");
    assert!(
        obj.remove("wall_time_s").is_some(),
        "manifest has wall_time_s"
    );
    m
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_file(tmp.path(), "det.toml", SMALL);
    (tmp, scenario)
}

#[test]
fn two_runs_write_identical_results() {
    let (tmp, scenario) = setup();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_binary(&scenario, &a, &[]);
    run_binary(&scenario, &b, &[]);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "same file names"
    );
    assert!(fa.contains_key(file::SCENARIO) && fa.contains_key(file::MANIFEST));
    let csvs = fa.keys().filter(|n| n.ends_with(".csv")).count();
    assert!(
        csvs >= 3,
        "at least summary, clouds and engine CSVs: {:?}",
        fa.keys()
    );
    for (name, bytes) in &fa {
        if name == file::MANIFEST {
            assert_eq!(
                manifest_without_wall_time(bytes),
                manifest_without_wall_time(&fb[name]),
                "manifest.json differs beyond wall_time_s"
            );
        } else {
            assert!(bytes == &fb[name], "{name} differs between identical runs");
        }
    }
}

#[test]
fn the_seed_does_not_change_the_topology() {
    let (tmp, scenario) = setup();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_binary(&scenario, &a, &[]);
    run_binary(&scenario, &b, &["--seed", "12345"]);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa[file::CLOUDS], fb[file::CLOUDS]);
    let (ma, mb) = (
        manifest_without_wall_time(&fa[file::MANIFEST]),
        manifest_without_wall_time(&fb[file::MANIFEST]),
    );
    assert_eq!(ma["seed"], 11);
    assert_eq!(mb["seed"], 12345);
    // The file itself is the same; only the override differs.
    assert_eq!(ma["scenario_sha256"], mb["scenario_sha256"]);
}

#[test]
fn library_runs_are_identical() {
    let a = csvs(&run_text(SMALL, &[]));
    let b = csvs(&run_text(SMALL, &[]));
    assert!(a.contains_key(file::CLOUDS));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same tables"
    );
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between identical library runs"
        );
    }
}

#[test]
fn library_and_binary_agree() {
    let (tmp, scenario) = setup();
    let out = tmp.path().join("out");
    run_binary(&scenario, &out, &[]);
    let written = files(&out);
    for (name, bytes) in csvs(&run_text(SMALL, &[])) {
        assert!(
            written.get(&name) == Some(&bytes),
            "{name}: library and binary differ"
        );
    }
}

/// The event list is an implementation detail: every structure pops events in the same total
/// order, so a run's tables are byte-identical whichever is used.
#[test]
fn every_event_list_gives_the_same_results() {
    let loaded = load_file(
        &scenario_path("autoscale-demo.toml"),
        &["simulation.duration=40m"],
    );
    let runs: Vec<_> = cloudtwin::engine::FelKind::ALL
        .iter()
        .map(|k| {
            cloudtwin::run::simulate_with(&loaded, &mut cloudtwin::engine::RunControl::none(), *k)
        })
        .collect();
    for r in &runs[1..] {
        assert_eq!(r.summary.to_csv(), runs[0].summary.to_csv());
        assert_eq!(r.tables.len(), runs[0].tables.len());
        for (a, b) in r.tables.iter().zip(&runs[0].tables) {
            assert_eq!(a.to_csv(), b.to_csv(), "{}", a.name);
        }
    }
}

/// The monitoring pipeline's collecting side may run on a thread of its own (two threads per
/// run): it sees the same commands in the same order, so every table and summary value is the
/// same byte for byte as on one thread. Checked on the committed scenarios and on variants
/// that exercise every collector discipline, network loss, dead agents, storage overflow,
/// pull mode and several monitoring sites; the disciplines whose services are engine events
/// stay on one thread.
#[test]
fn one_and_two_threads_give_the_same_results() {
    let cases: &[(&str, &[&str], usize)] = &[
        ("autoscale-demo.toml", &["simulation.duration=40m"], 2),
        ("poc-timeline.toml", &[], 2),
        ("cloud-twin-100x100.toml", &["simulation.duration=15m"], 2),
        ("dragonfly-limits.toml", &[], 2),
        (
            "poc-timeline.toml",
            &[
                "monitoring.loss_p=0.2",
                "monitoring.collectors.dead_after_rounds=1",
                "monitoring.storage.queue_limit=2000",
            ],
            2,
        ),
        (
            "poc-timeline.toml",
            &[
                "monitoring.collectors.policy=\"fixed\"",
                "monitoring.collectors.count=2",
            ],
            2,
        ),
        ("poc-timeline.toml", &["monitoring.mode=\"pull\""], 2),
        ("poc-timeline.toml", &["monitoring.inline_service=false"], 1),
        // Three sites: each runs its own collectors and storage on the collecting side; the
        // scale-outs' agents go to their new clouds' sites.
        (
            "autoscale-demo.toml",
            &[
                "simulation.duration=40m",
                "monitoring.site=[\"aws:us-east-1\", \"gcp:europe-west4\", \"aws:ap-northeast-1\"]",
            ],
            2,
        ),
        (
            "poc-timeline.toml",
            &[
                "monitoring.site=[\"aws:us-east-1\", \"gcp:europe-west4\", \"aws:ap-northeast-1\"]",
                "monitoring.loss_p=0.1",
                "monitoring.collectors.dead_after_rounds=1",
            ],
            2,
        ),
        (
            "dragonfly-limits.toml",
            &["monitoring.collectors.queue=\"shared\""],
            1,
        ),
    ];
    for (file, sets, threads) in cases {
        let loaded = load_file(&scenario_path(file), sets);
        let run = |threads| {
            let opts = cloudtwin::run::RunOptions {
                threads,
                ..Default::default()
            };
            cloudtwin::run::simulate_opts(&loaded, &mut cloudtwin::engine::RunControl::none(), opts)
        };
        let (one, two) = (run(1), run(2));
        let what = format!("{file} {sets:?}");
        assert_eq!(one.threads, 1, "{what}");
        assert_eq!(
            two.threads, *threads,
            "{what}: the collecting side ran apart"
        );
        assert_eq!(two.summary.to_csv(), one.summary.to_csv(), "{what}");
        assert_eq!(two.tables.len(), one.tables.len(), "{what}");
        // The waits of each thread for the other: only where there were two, and each side
        // waited for at most every batch, of which there is one per 1,024 commands or less
        // (a report is one).
        assert_eq!(one.pipe_waits, None, "{what}");
        assert_eq!(two.pipe_waits.is_some(), *threads == 2, "{what}");
        if let Some(w) = two.pipe_waits {
            let reports = match two.summary.get(metric::MONITORING_REPORTS_SENT) {
                Some(Value::Int(n)) => u64::try_from(*n).expect("a count"),
                other => panic!("{what}: reports sent {other:?}"),
            };
            assert!(w.batches >= reports.div_ceil(1024).max(1), "{what}: {w:?}");
            assert!(w.engine.batches <= w.batches, "{what}: {w:?}");
            assert!(w.collecting.batches <= w.batches, "{what}: {w:?}");
            assert_eq!((w.engine.time, w.collecting.time), (None, None), "no clock");
        }
        for (a, b) in two.tables.iter().zip(&one.tables) {
            assert!(a.to_csv() == b.to_csv(), "{what}: {} differs", a.name);
        }
    }
}

/// With several monitoring sites, each site's reports run on a part of the event list of its
/// own, a stretch of one site at a time, behind the rest of the run (`RunOptions::sites_apart`,
/// the default): the results are those of one event list, byte for byte, on one thread or
/// two. Checked with loss and dead agents, scale-outs placed near other sites, agentCount
/// under CPU contention, services as engine events, pull mode, and the default scenario.
#[test]
fn sites_apart_give_the_results_of_one_event_list() {
    const SITES: &str =
        "monitoring.site=[\"aws:us-east-1\", \"gcp:europe-west4\", \"aws:ap-northeast-1\"]";
    let cases: &[(&str, &[&str])] = &[
        (
            "poc-timeline.toml",
            &[
                SITES,
                "monitoring.loss_p=0.1",
                "monitoring.collectors.dead_after_rounds=1",
            ],
        ),
        ("autoscale-demo.toml", &["simulation.duration=40m", SITES]),
        ("dragonfly-limits.toml", &[SITES]),
        (
            "dragonfly-limits.toml",
            &[SITES, "monitoring.inline_service=false"],
        ),
        ("poc-timeline.toml", &[SITES, "monitoring.mode=\"pull\""]),
        (
            "cloud-twin-100x100.toml",
            &["simulation.duration=15m", SITES],
        ),
    ];
    for (file, sets) in cases {
        let loaded = load_file(&scenario_path(file), sets);
        assert_eq!(loaded.monitoring.sites.len(), 3);
        // Apart, the three sites' reports have parts of the event list (not where services
        // are engine events); on one list, none.
        let parts = |sites_apart| {
            let mut sched = cloudtwin::engine::Scheduler::new();
            cloudtwin::world::World::new_with(&loaded, &mut sched, sites_apart);
            sched.parts()
        };
        let events_as_services = sets.iter().any(|s| s.contains("inline_service=false"));
        assert_eq!(
            parts(true),
            if events_as_services { 0 } else { 3 },
            "{file}"
        );
        assert_eq!(parts(false), 0, "{file}");
        let run = |sites_apart, threads| {
            let opts = cloudtwin::run::RunOptions {
                threads,
                sites_apart,
                ..Default::default()
            };
            cloudtwin::run::simulate_opts(&loaded, &mut cloudtwin::engine::RunControl::none(), opts)
        };
        let one_list = run(false, 1);
        for threads in [1, 2] {
            let apart = run(true, threads);
            let what = format!("{file} {sets:?}, {threads} thread(s)");
            assert_eq!(apart.events, one_list.events, "{what}");
            assert_eq!(apart.summary.to_csv(), one_list.summary.to_csv(), "{what}");
            assert_eq!(apart.tables.len(), one_list.tables.len(), "{what}");
            for (a, b) in apart.tables.iter().zip(&one_list.tables) {
                assert!(a.to_csv() == b.to_csv(), "{what}: {} differs", a.name);
            }
        }
    }
}

/// With a clock lent to the run, both threads' waits are timed (and the results are those of
/// a run without one); the library reads no clock of its own.
#[test]
fn a_lent_clock_times_the_threads_waits() {
    fn clock() -> std::time::Duration {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed()
    }
    let loaded = load_file(&scenario_path("poc-timeline.toml"), &[]);
    let run = |clock| {
        let opts = cloudtwin::run::RunOptions {
            threads: 2,
            clock,
            ..Default::default()
        };
        cloudtwin::run::simulate_opts(&loaded, &mut cloudtwin::engine::RunControl::none(), opts)
    };
    let (timed, counted) = (run(Some(clock)), run(None));
    assert_eq!(timed.threads, 2);
    let w = timed.pipe_waits.expect("two threads");
    assert!(
        w.engine.time.is_some() && w.collecting.time.is_some(),
        "{w:?}"
    );
    let c = counted.pipe_waits.expect("two threads");
    assert_eq!((c.engine.time, c.collecting.time), (None, None), "{c:?}");
    assert_eq!(timed.summary.to_csv(), counted.summary.to_csv());
    for (a, b) in timed.tables.iter().zip(&counted.tables) {
        assert!(a.to_csv() == b.to_csv(), "{} differs", a.name);
    }
}

/// While the collecting side runs on its own thread, the readers of its state answer `None`
/// (its state is the other thread's, behind the engine's), not a wrong figure or a panic;
/// after the run's finish they answer, with the same figures as a run on one thread.
#[test]
fn the_collecting_side_is_read_after_the_finish() {
    use cloudtwin::engine::{RunControl, Scheduler};
    use cloudtwin::world::World;
    let loaded = load_file(&scenario_path("poc-timeline.toml"), &[]);
    let half = cloudtwin::engine::SimTime(loaded.resolved.horizon.as_nanos() / 2);
    let readings = |apart: bool| {
        let mut sched = Scheduler::new();
        let mut world = World::new(&loaded, &mut sched);
        if apart {
            assert!(
                world.run_apart(None),
                "this scenario's collecting side can run apart"
            );
        }
        sched.run_until(&mut world, half, &mut RunControl::none());
        let m = world.monitoring.as_ref().expect("monitoring is on");
        let mid = (
            m.counts(),
            m.sent_by(half),
            m.in_flight(half),
            m.wait_mean_ci(),
        );
        sched.run_until(&mut world, loaded.resolved.horizon, &mut RunControl::none());
        world.finish(loaded.resolved.horizon);
        let m = world.monitoring.as_ref().expect("monitoring is on");
        let end = loaded.resolved.horizon;
        let after = (m.counts(), m.sent_by(end), m.in_flight(end));
        (mid, after)
    };
    let ((counts, sent, in_flight, wait), after) = readings(true);
    assert!(counts.is_none() && sent.is_none() && in_flight.is_none() && wait.is_none());
    let (c, s, f) = after;
    let (c, s, f) = (
        c.expect("after finish"),
        s.expect("after finish"),
        f.expect("after finish"),
    );
    assert!(s > 0 && c.sent > 0, "reports were sent");
    // One thread answers mid-run too, and ends with the same figures.
    let ((counts1, sent1, ..), (c1, s1, f1)) = readings(false);
    assert!(counts1.is_some() && sent1.is_some());
    assert_eq!(
        (c1.expect("one thread").sent, s1, f1),
        (c.sent, Some(s), Some(f))
    );
}
