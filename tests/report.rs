//! Reports (`cloudtwin::report`, `cloudtwin report DIR`): the same CSVs give byte-identical
//! plots and page; every plot has its title, axis labels with units and a legend when it has
//! several series; absent CSVs skip plots; the page is self-contained; sweep folders get sweep
//! plots with confidence intervals.

mod common;

use cloudtwin::output::names::file;
use common::{cloudtwin, entries, files, output_of, run_binary, write_file};
use std::path::{Path, PathBuf};

/// Three providers, monitoring, an auto-scaling policy with a load step, and vm_events: every
/// run plot has data.
const SMALL: &str = r#"
[simulation]
name = "report-small"
seed = 5
duration = "40m"
sample_interval = "10s"

[topology]
clouds = ["aws:us-east-1", "gcp:us-central1", "azure:koreacentral"]

[lifecycle]
stagger = { mode = "none" }
pre_create_jitter = { dist = "uniform", min = "0s", max = "5s" }

[monitoring]
interval = "5s"
agent_start_delay = "30s"

[[mcis]]
name = "web"
groups = [
  { cloud = "aws:us-east-1", count = 2, spec = "t2.medium" },
  { cloud = "gcp:us-central1", count = 2, spec = "e2-standard-2" },
  { cloud = "azure:koreacentral", count = 2, spec = "Standard_B2s" },
]

[[workload]]
mcis = "web"
demand = { shape = "step", base = 3.0, steps = [{ at = "8m", value = 11.0 }, { at = "28m", value = 3.0 }] }

[control]
tick = "10s"

[[control.policies]]
mcis = "web"
metric = "cpu"
operator = ">="
operand = 80.0
evaluation_period = 6
action = "scale_out"
max_vms = 9

[[control.policies]]
mcis = "web"
metric = "cpu"
operator = "<="
operand = 40.0
evaluation_period = 6
action = "scale_in"
min_vms = 6

[output]
vm_events = true
"#;

/// Runs SMALL into `<tmp>/run` and returns its folder.
fn small_run(tmp: &Path) -> PathBuf {
    let scenario = write_file(tmp, "small.toml", SMALL);
    let out = tmp.join("run");
    run_binary(&scenario, &out, &[]);
    out
}

/// `cloudtwin report DIR`: exit code, stdout, stderr.
fn report(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    output_of(cloudtwin().arg("report").arg(dir).args(extra))
}

/// Copies the files of a folder (not sub-folders): the CSVs and scenario of a run.
fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

fn svg(dir: &Path, name: &str) -> String {
    let p = dir.join(file::PLOTS_DIR).join(format!("{name}.svg"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_run_writes_plots_and_a_report_and_the_same_csvs_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    let names = [
        "vm_states",
        "provisioning_cdf",
        "monitoring_load",
        "monitoring_delay",
        "rtt_heatmap",
        "control_web",
    ];
    for n in names {
        for ext in ["svg", "png"] {
            let p = run.join(file::PLOTS_DIR).join(format!("{n}.{ext}"));
            assert!(p.is_file(), "{} missing", p.display());
        }
        let png = std::fs::read(run.join(file::PLOTS_DIR).join(format!("{n}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{n}.png is a PNG");
    }
    assert!(run.join(file::REPORT).is_file());

    // A copy of the CSVs alone, reported twice: identical bytes, and identical to the run's.
    let copy = tmp.path().join("copy");
    copy_files(&run, &copy);
    std::fs::remove_file(copy.join(file::REPORT)).unwrap();
    let (code, out, err) = report(&copy, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("6 plots"), "{out}");
    let first = files(&copy);
    let (code, _, err) = report(&copy, &["--quiet"]);
    assert_eq!(code, 0, "{err}");
    let second = files(&copy);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (k, v) in &first {
        assert!(*v == second[k], "{k} differs between two reports");
    }
    let original = files(&run);
    for (k, v) in &first {
        if k.starts_with("plots/") || k == file::REPORT {
            assert!(*v == original[k], "{k} differs from the one the run wrote");
        }
    }
    // No temporary files left behind.
    let hidden: Vec<&String> = first
        .keys()
        .filter(|k| k.contains("/.") || k.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn every_plot_has_a_title_axis_labels_and_a_legend() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    // (plot, title, axis labels, legend entries): SVG text is XML-escaped.
    let expect: [(&str, &str, &[&str], &[&str]); 6] = [
        (
            "vm_states",
            "VM statuses over time",
            &["time (min)", "VMs"],
            &["Running", "Creating"],
        ),
        (
            "provisioning_cdf",
            "Provisioning time CDF",
            &[
                "MCIS request to first Running (s)",
                "fraction of provisioned VMs",
            ],
            &[
                "all providers (n = 6)",
                "aws (n = 2)",
                "gcp (n = 2)",
                "p50 = ",
            ],
        ),
        (
            "monitoring_load",
            "Monitoring load over time",
            &["time (min)", "reports/s", "collectors", "reports/sample"],
            &[
                "reports in (per s)",
                "backlog, largest collector",
                "drops (per sample)",
            ],
        ),
        (
            "monitoring_delay",
            "Monitoring delay over time",
            &[
                "time (min)",
                "delay, agent send to stored (ms)",
                "active agents",
            ],
            &["p50 delay", "p95 delay", "active agents (right axis)"],
        ),
        (
            "rtt_heatmap",
            "Cloud x cloud RTT (median)",
            &["source cloud", "destination cloud", "RTT p50 (ms)"],
            &["aws:us-east-1", "azure:koreacentral", "gcp:us-central1"],
        ),
        (
            "control_web",
            "Auto-control timeline: MCIS web",
            &["time (min)", "CPU (%)", "VMs"],
            &[
                "MCIS mean CPU",
                "scale_out: cpu &gt;= 80 %",
                "scale_in: cpu &lt;= 40 %",
                "VMs Running (right axis)",
                "ScaleOut",
            ],
        ),
    ];
    for (name, title, labels, legend) in expect {
        let s = svg(&run, name);
        assert!(s.starts_with("<svg "), "{name}: not an SVG");
        for text in std::iter::once(&title).chain(labels).chain(legend) {
            assert!(s.contains(text), "{name}.svg lacks {text:?}");
        }
        assert!(s.contains("<text"), "{name}: no text elements");
    }
    let html = std::fs::read_to_string(run.join(file::REPORT)).unwrap();
    for (name, title, _, _) in expect {
        assert!(
            html.contains(&format!("id=\"plot-{name}\"")),
            "{name} not in the page"
        );
        assert!(html.contains(title), "{title} not in the page");
    }
}

#[test]
fn the_page_is_self_contained() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    let html = std::fs::read_to_string(run.join(file::REPORT)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for bad in ["http://", "https://", "<script", "<link", "<img", "@import"] {
        assert!(!html.contains(bad), "report.html contains {bad:?}");
    }
    assert!(html.matches("<svg ").count() >= 6, "inline SVG plots");
    // The scenario and the summary table are on the page.
    assert!(
        html.contains("<pre>[simulation]"),
        "scenario.toml in a <pre>"
    );
    assert!(html.contains("name = &quot;report-small&quot;"));
    assert!(
        html.contains("<td>vm_create_requests</td>"),
        "summary table"
    );
    // The standalone SVG files keep their namespace.
    assert!(svg(&run, "vm_states").contains("xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn a_folder_with_only_summary_csv_gets_a_page_without_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join(file::SUMMARY),
        "metric,value\nclouds,3\nsim_time_s,60\n",
    )
    .unwrap();
    let (code, out, err) = report(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 plots"), "{out}");
    assert!(
        out.contains("not plotted: vm_states: vm_states.csv is absent"),
        "{out}"
    );
    assert!(!dir.join(file::PLOTS_DIR).exists(), "no empty plots folder");
    let html = std::fs::read_to_string(dir.join(file::REPORT)).unwrap();
    assert!(html.contains("<td>sim_time_s</td>"), "{html}");
    assert!(html.contains("vm_states.csv is absent"));
    let names = entries(&dir);
    assert_eq!(
        names.len(),
        2,
        "summary.csv and report.html only: {names:?}"
    );
}

#[test]
fn report_replaces_old_plots_and_refuses_other_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let run = small_run(tmp.path());
    std::fs::write(run.join(file::PLOTS_DIR).join("stale.svg"), "<svg/>").unwrap();
    // Without monitoring.csv its plots go away with the stale one.
    std::fs::remove_file(run.join(file::MONITORING)).unwrap();
    let (code, out, err) = report(&run, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("not plotted: monitoring_load: monitoring.csv is absent"),
        "{out}"
    );
    assert!(!run.join("plots/stale.svg").exists());
    assert!(!run.join("plots/monitoring_load.svg").exists());
    assert!(run.join("plots/vm_states.svg").exists());
    let hidden: Vec<String> = entries(&run)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = report(&empty, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a results folder"), "{err}");
    let (code, _, err) = report(&tmp.path().join("missing"), &[]);
    assert_eq!(code, 2, "{err}");
}

const SWEEP_SUMMARY: &str = "\
point,monitoring.collectors.max_host_count,monitoring.interval,metric,n,mean,sd,ci95_low,ci95_high
p000,5,5s,monitoring_delay_p95_ms,3,100,5,90,110
p000,5,5s,clouds,3,4,0,4,4
p001,5,10s,monitoring_delay_p95_ms,3,120,5,110,130
p001,5,10s,clouds,3,4,0,4,4
p002,10,5s,monitoring_delay_p95_ms,3,90,5,80,100
p002,10,5s,clouds,3,4,0,4,4
p003,10,10s,monitoring_delay_p95_ms,3,95,5,85,105
p003,10,10s,clouds,3,4,0,4,4
p004,20,5s,monitoring_delay_p95_ms,3,400,50,300,500
p004,20,5s,clouds,3,4,0,4,4
p005,20,10s,monitoring_delay_p95_ms,1,420,,,
p005,20,10s,clouds,1,4,,,
";

#[test]
fn a_sweep_folder_gets_metric_plots_with_confidence_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(file::SWEEP_SUMMARY), SWEEP_SUMMARY).unwrap();
    let (code, out, err) = report(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    // Only the metric that varies is plotted by default.
    assert!(out.contains("1 plot "), "{out}");
    let s = svg(&dir, "sweep_monitoring_delay_p95_ms");
    for text in [
        "monitoring_delay_p95_ms vs max_host_count",
        "monitoring.collectors.max_host_count",
        "monitoring_delay_p95_ms (ms)",
        // One series per value of the other key: a legend.
        "interval=5s",
        "interval=10s",
    ] {
        assert!(s.contains(text), "sweep plot lacks {text:?}");
    }
    let html = std::fs::read_to_string(dir.join(file::REPORT)).unwrap();
    assert!(html.contains("id=\"sweep\""));
    assert!(
        html.contains("100 ± 10"),
        "mean and CI half-width per point"
    );
    assert!(!html.contains("http://") && !html.contains("https://"));

    // Chosen metrics; an unknown one alone is reported, not fatal.
    let (code, out, err) = report(
        &dir,
        &["--metric", cloudtwin::output::names::metric::CLOUDS],
    );
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("plots/sweep_clouds.svg").is_file(), "{out}");
    assert!(!dir.join("plots/sweep_monitoring_delay_p95_ms.svg").exists());
    let (code, out, _) = report(&dir, &["--metric", "nope"]);
    assert_eq!(code, 0);
    assert!(out.contains("has no metric nope"), "{out}");
}
