//! Know before you run (issue 15): the size estimate against the peak memory runs take, runs
//! too big for the machine refused at once with exit 2 and nothing written, and no input that
//! makes the binary abort. (The estimate's counts against the built plans, the refusal
//! messages and the sweep's runs in flight are unit tests in `src/size` and `src/batch`.)

mod common;

use common::{cloudtwin, entries, output_of, project_path, write_file};
use std::path::Path;
use std::time::Duration;

/// Long enough for any case here on a slow machine; a hung run fails instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A bytes figure as `fmt_bytes` prints it (`27.5 MB`, `907 MB`, `1.2 GB`).
fn parse_bytes(text: &str) -> f64 {
    let mut words = text.split_whitespace();
    let n: f64 = words
        .next()
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no number in {text:?}"));
    let unit = match words.next() {
        Some("kB") => 1e3,
        Some("MB") => 1e6,
        Some("GB") => 1e9,
        Some("TB") => 1e12,
        u => panic!("unit {u:?} in {text:?}"),
    };
    n * unit
}

/// Runs a committed scenario (shortened where long) and returns (measured, estimated) peak
/// memory from `run`'s last lines.
fn measured_and_estimated(scenario: &str, sets: &[&str]) -> (f64, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = cloudtwin();
    cmd.arg("run")
        .arg(project_path("scenarios").join(scenario))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .timeout(TIMEOUT);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let (code, stdout, stderr) = output_of(&mut cmd);
    assert_eq!(code, 0, "{scenario} {sets:?}: {stderr}");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("peak memory: "))
        .unwrap_or_else(|| panic!("{scenario}: no peak memory line in\n{stdout}"));
    let (measured, estimated) = line
        .split_once(" measured, ")
        .unwrap_or_else(|| panic!("{line}"));
    let estimated = estimated.trim_end_matches(" estimated");
    (parse_bytes(measured), parse_bytes(estimated))
}

#[test]
fn the_estimate_is_within_2x_of_the_peak_memory_of_every_committed_scenario() {
    // Every scenario file, the long and large ones shortened or scaled down.
    let cases: &[(&str, &[&str])] = &[
        ("autoscale-demo.toml", &[]),
        ("cladnet-placement.toml", &[]),
        ("poc-timeline.toml", &[]),
        ("serve-100-clouds.toml", &["output.report=false"]),
        (
            "cloud-twin-100x100.toml",
            &["simulation.duration=15m", "output.report=false"],
        ),
        (
            "dragonfly-limits.toml",
            &["simulation.duration=12m", "output.report=false"],
        ),
        (
            "bench/monitoring-only.toml",
            &["simulation.duration=100s", "output.report=false"],
        ),
        (
            "bench/scale-1m.toml",
            &[
                "topology.vms_per_cloud=20",
                "simulation.duration=2m",
                "output.report=false",
            ],
        ),
        (
            "bench/scale-10m.toml",
            &[
                "topology.accounts_per_region=2",
                "topology.vms_per_cloud=20",
                "simulation.duration=2m",
                "output.report=false",
            ],
        ),
        (
            "bench/scale-10m-one-site.toml",
            &[
                "topology.accounts_per_region=2",
                "topology.vms_per_cloud=20",
                "simulation.duration=2m",
                "output.report=false",
            ],
        ),
    ];
    let found: Vec<String> = std::fs::read_dir(project_path("scenarios"))
        .unwrap()
        .chain(std::fs::read_dir(project_path("scenarios/bench")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            p.strip_prefix(project_path("scenarios"))
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    for f in &found {
        assert!(
            cases.iter().any(|(c, _)| c == f),
            "{f} is not measured here: add it"
        );
    }
    let mut failures = Vec::new();
    for (scenario, sets) in cases {
        let (measured, estimated) = measured_and_estimated(scenario, sets);
        let ratio = estimated / measured;
        eprintln!("{scenario}: measured {measured:.3e}, estimated {estimated:.3e} ({ratio:.2}x)");
        if !(0.5..=2.0).contains(&ratio) {
            failures.push(format!(
                "{scenario} {sets:?}: estimated {estimated:.3e} B, measured {measured:.3e} B"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `cloudtwin run <default scenario> --set <set>` in an empty folder (results folder inside
/// it): exit code and stderr, and that nothing was written.
fn refused_run(set: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = cloudtwin();
    cmd.current_dir(tmp.path())
        .arg("run")
        .arg(project_path("scenarios/cloud-twin-100x100.toml"))
        .args(["--set", set])
        .timeout(TIMEOUT);
    let (code, _, stderr) = output_of(&mut cmd);
    assert_eq!(code, 2, "--set {set}: {stderr}");
    assert!(
        entries(tmp.path()).is_empty(),
        "--set {set} wrote something"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("cloud-twin-100x100.toml: "),
        "names the file: {stderr}"
    );
    assert!(
        stderr
            .trim_end()
            .ends_with("(use --no-size-check to run anyway)"),
        "{stderr}"
    );
    stderr
}

#[test]
fn a_fleet_too_big_for_the_machine_is_refused_at_once() {
    let e = refused_run("topology.vms_per_cloud=100000000");
    assert!(
        e.contains("topology.vms_per_cloud = 100000000: about "),
        "{e}"
    );
    assert!(
        e.contains("of memory for 10,000,000,000 VMs (100 clouds); this machine has "),
        "{e}"
    );
}

#[test]
fn a_1ns_sample_interval_is_refused_at_once() {
    let e = refused_run("simulation.sample_interval=1ns");
    assert!(e.contains("simulation.sample_interval = 1ns: "), "{e}");
    assert!(
        e.contains("vm_states.csv would get about") && e.contains("rows per table"),
        "{e}"
    );
    assert!(e.contains("simulation.sample_interval of at least "), "{e}");
}

#[test]
fn a_1ns_monitoring_interval_is_refused_at_once() {
    let e = refused_run("monitoring.interval=1ns");
    assert!(e.contains("monitoring.interval = 1ns: about "), "{e}");
    assert!(e.contains("engine events"), "{e}");
    assert!(e.contains("monitoring.interval of at least "), "{e}");
}

#[test]
fn validate_prints_the_estimate_and_refuses_like_run() {
    let mut cmd = cloudtwin();
    cmd.arg("validate")
        .arg(project_path("scenarios/cloud-twin-100x100.toml"))
        .timeout(TIMEOUT);
    let (code, stdout, _) = output_of(&mut cmd);
    assert_eq!(code, 0);
    assert!(stdout.contains("#   peak memory ~"), "{stdout}");
    assert!(stdout.contains("#   engine events ~"), "{stdout}");
    assert!(stdout.contains("#   vm_states.csv"), "{stdout}");
    // The whole output is still a loadable scenario (the estimate is comments).
    let tmp = tempfile::tempdir().unwrap();
    let again = write_file(tmp.path(), "again.toml", &stdout);
    let mut cmd = cloudtwin();
    cmd.arg("validate").arg(&again).timeout(TIMEOUT);
    assert_eq!(output_of(&mut cmd).0, 0);

    let mut cmd = cloudtwin();
    cmd.arg("validate")
        .arg(project_path("scenarios/cloud-twin-100x100.toml"))
        .args(["--set", "monitoring.interval=1ns"])
        .timeout(TIMEOUT);
    let (code, _, stderr) = output_of(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("monitoring.interval = 1ns"), "{stderr}");
}

#[test]
fn a_sweep_with_a_point_too_big_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = cloudtwin();
    cmd.current_dir(tmp.path())
        .arg("sweep")
        .arg(project_path("scenarios/poc-timeline.toml"))
        .args(["--vary", "topology.vms_per_cloud=3,2000000000"])
        .args(["--out", "sweep"])
        .timeout(TIMEOUT);
    let (code, _, stderr) = output_of(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("sweep point p001"), "{stderr}");
    assert!(
        stderr.contains("topology.vms_per_cloud = 2000000000"),
        "{stderr}"
    );
    assert!(entries(tmp.path()).is_empty(), "nothing written");
}

/// A small scenario whose runs take a moment: hostile values either are refused or run.
const SMALL: &str = r#"
[simulation]
name = "small"
duration = "2h"

[topology]
vms_per_cloud = 2
clouds = ["aws:us-east-1", "gcp:europe-west3", "azure:koreacentral"]

[[mcis]]
name = "web"

[[workload]]
mcis = "web"
demand = { shape = "constant", value = 1.0 }

[control]
tick = "10s"

[[control.policies]]
mcis = "web"
metric = "cpu"
operator = ">="
operand = 80.0
evaluation_period = 3
action = "scale_out"
max_vms = 8

[cladnet]
status_tests = ["30m"]

[output]
report = false
"#;

#[test]
fn no_input_makes_the_binary_abort() {
    let src = tempfile::tempdir().unwrap();
    let small = write_file(src.path(), "small.toml", SMALL);
    let default = project_path("scenarios/cloud-twin-100x100.toml");
    let scale_out = r#"control.policies=[{mcis="web",metric="cpu",operator=">=",operand=80.0,evaluation_period=3,action="scale_out"}]"#;
    // (sets, on the default scenario rather than the small one, with --no-size-check)
    let cases: &[(&[&str], bool, bool)] = &[
        (&["topology.vms_per_cloud=100000000"], false, false),
        (&["topology.vms_per_cloud=4294967295"], false, false),
        (&["topology.vms_per_cloud=4294967295"], false, true),
        (&["topology.vms_per_cloud=-1"], false, false),
        (&["topology.vms_per_cloud=0"], false, false),
        (&["topology.accounts_per_region=100000000"], false, false),
        (&["topology.accounts_per_region=4294967295"], false, true),
        (&["topology.accounts_per_region=0"], false, false),
        (&["topology.mix.aws=4294967295"], false, false),
        (&["simulation.duration=\"29000w\""], false, false),
        (&["simulation.duration=\"30000w\""], false, false),
        (&["simulation.duration=1e30"], false, false),
        (&["simulation.duration=\"1ns\""], false, false),
        (&["simulation.sample_interval=1ns"], false, false),
        (&["simulation.sample_interval=0s"], false, false),
        (&["simulation.seed=9223372036854775807"], false, false),
        (&["simulation.seed=18446744073709551615"], false, false),
        (&["monitoring.interval=1ns"], false, false),
        (&["monitoring.interval=0s"], false, false),
        (&["monitoring.collectors.interval=1ns"], false, false),
        (
            &["monitoring.mode=\"pull\"", "monitoring.pull_interval=1ns"],
            false,
            false,
        ),
        (
            &["monitoring.collectors.max_host_count=4294967295"],
            false,
            false,
        ),
        (&["monitoring.collectors.max_host_count=0"], false, false),
        (
            &[
                "monitoring.collectors.policy=\"fixed\"",
                "monitoring.collectors.count=4294967295",
            ],
            false,
            false,
        ),
        (
            &[
                "monitoring.collectors.policy=\"fixed\"",
                "monitoring.collectors.count=4294967295",
            ],
            false,
            true,
        ),
        (
            &["monitoring.collectors.server_cores=4294967295"],
            false,
            false,
        ),
        (&["monitoring.collectors.buffer=4294967295"], false, false),
        (&["monitoring.measurements=4294967295"], false, false),
        (&["monitoring.report_bytes=4294967295"], false, false),
        (
            &["monitoring.storage.batch_points=4294967295"],
            false,
            false,
        ),
        (&["monitoring.storage.write_capacity=nan"], false, false),
        (&["monitoring.storage.write_capacity=inf"], false, false),
        (&["monitoring.storage.write_capacity=1e-300"], false, false),
        (
            &["monitoring.storage.queue_limit=9223372036854775807"],
            false,
            false,
        ),
        (&["monitoring.loss_p=nan"], false, false),
        (
            &["monitoring.collectors.service_time=\"1000w\""],
            false,
            false,
        ),
        (
            &[
                "lifecycle.create_failure_p=1.0",
                "lifecycle.retry={attempts=4294967295,backoff=\"1ns\",backoff_factor=1.0}",
            ],
            false,
            false,
        ),
        (
            &["lifecycle.retry={attempts=4294967295,backoff=\"0s\",backoff_factor=0.0}"],
            false,
            false,
        ),
        (
            &[
                "lifecycle.random_outages={scope=\"zone\",rate_per_day=1e300,duration=\"1s\",effect=\"fail\"}",
            ],
            false,
            false,
        ),
        (
            &[
                "lifecycle.random_outages={scope=\"zone\",rate_per_day=1e300,duration=\"1s\",effect=\"fail\"}",
            ],
            false,
            true,
        ),
        (
            &[
                "lifecycle.random_outages={scope=\"zone\",rate_per_day=nan,duration=\"1s\",effect=\"fail\"}",
            ],
            false,
            false,
        ),
        (&["lifecycle.api_rate=1e-300"], false, false),
        (&["lifecycle.api_rate=nan"], false, false),
        (&["lifecycle.api_burst=4294967295"], false, false),
        (
            &["lifecycle.stagger={mode=\"cumulative\",step=\"1000w\"}"],
            false,
            false,
        ),
        (
            &["lifecycle.crash={dist=\"exponential\",mean=\"1ns\"}"],
            false,
            false,
        ),
        (&["lifecycle.api_delay=\"1000w\""], false, false),
        (&["control.tick=1ns"], false, false),
        (
            &["control.max_scale_out=4294967295", scale_out],
            false,
            false,
        ),
        (
            &["control.max_scale_out=4294967295", scale_out],
            false,
            true,
        ),
        (&["cladnet.trial_count=4294967295"], true, false),
        // On the small scenario: on the default one this is a legal run of 10^8 VM pairs per
        // status test, minutes in a debug build (the estimate does not count that work yet).
        (&["cladnet.max_vm_matrix=4294967295"], false, false),
        (&["cladnet.status_tests=[\"1ns\",\"2ns\"]"], false, false),
        (&["network.cloud_rtt_max_clouds=4294967295"], false, false),
        (
            &[
                "workload=[{mcis=\"web\",demand={shape=\"spikes\",base=1.0,height=2.0,rate_per_hour=1e300,duration=\"1s\"}}]",
            ],
            false,
            false,
        ),
        (
            &[
                "workload=[{mcis=\"web\",demand={shape=\"diurnal\",mean=1.0,amplitude=1.0,period=\"1ns\",peak_at=\"0s\"}}]",
            ],
            false,
            false,
        ),
        (
            &["serve.enabled=true", "serve.max_vms=4294967295"],
            false,
            false,
        ),
        (
            &["serve.enabled=true", "serve.max_vms=4294967295"],
            false,
            true,
        ),
        (
            &["serve.enabled=true", "serve.max_vms=2000000000"],
            false,
            false,
        ),
    ];
    let mut failures = Vec::new();
    for (sets, on_default, unchecked) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let mut cmd = cloudtwin();
        let scenario: &Path = if *on_default { &default } else { &small };
        cmd.current_dir(tmp.path())
            .arg("run")
            .arg(scenario)
            .args(["--out", "out", "--quiet"])
            .timeout(TIMEOUT);
        if *unchecked {
            cmd.arg("--no-size-check");
        }
        for s in *sets {
            cmd.args(["--set", s]);
        }
        let (code, _, stderr) = output_of(&mut cmd);
        let what = format!(
            "{sets:?}{}",
            if *unchecked { " --no-size-check" } else { "" }
        );
        let clean = !stderr.contains("panicked")
            && !stderr.contains("memory allocation")
            && !stderr.contains("backtrace");
        match code {
            0 | 2 if clean => {}
            0 | 2 => failures.push(format!("{what}: exit {code} with {stderr}")),
            c => failures.push(format!("{what}: exit {c} (-1: a signal): {stderr}")),
        }
        if code == 2 {
            assert!(entries(tmp.path()).is_empty(), "{what} wrote something");
            if !stderr.starts_with("error: ") || stderr.lines().count() != 1 {
                failures.push(format!("{what}: not one error line: {stderr}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
