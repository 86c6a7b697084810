//! CLADNet outputs of a run: cloud_rtt.csv (every ordered pair, never under the fibre floor,
//! measured overrides applied), the status test's matrix and probe count, and the control-plane
//! placement comparison under zone, region and provider outages.

use cloudtwin::engine::RunControl;
use cloudtwin::output::Table;
use cloudtwin::output::summary::Value;
use cloudtwin::run::{RunOutput, simulate};

fn run_file(name: &str, sets: &[&str]) -> RunOutput {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let o: Vec<_> = sets
        .iter()
        .map(|s| cloudtwin::scenario::Override::parse(s).unwrap())
        .collect();
    let loaded = cloudtwin::scenario::load(&path, &o).unwrap_or_else(|e| panic!("{e}"));
    simulate(&loaded, &mut RunControl::none())
}

fn table<'a>(out: &'a RunOutput, name: &str) -> &'a Table {
    out.tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

fn col(t: &Table, name: &str) -> usize {
    t.header.iter().position(|h| h == name).unwrap()
}

fn num(v: &str) -> f64 {
    v.parse().unwrap()
}

#[test]
fn placement_models_trade_availability_for_commit_latency() {
    let out = run_file("cladnet-placement.toml", &[]);
    let t = table(&out, "placement.csv");
    let models: Vec<&str> = t.rows().iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        models,
        [
            "single-zone",
            "multi-zone",
            "multi-region",
            "multi-provider-one-region",
            "multi-provider-multi-region"
        ]
    );
    let avail: Vec<f64> = t
        .rows()
        .iter()
        .map(|r| num(&r[col(t, "availability_pct")]))
        .collect();
    // 24 h with a 1 h zone, 2 h region and 1 h provider outage on the anchor.
    let expect = [
        100.0 * 20.0 / 24.0,
        100.0 * 21.0 / 24.0,
        100.0 * 23.0 / 24.0,
        100.0,
        100.0,
    ];
    for (a, e) in avail.iter().zip(expect) {
        assert!((a - e).abs() < 0.01, "{avail:?}");
    }
    let commit: Vec<f64> = t
        .rows()
        .iter()
        .map(|r| num(&r[col(t, "commit_latency_mean_ms")]))
        .collect();
    assert!(
        commit[0] < commit[1] && commit[1] < commit[3] && commit[3] < commit[2],
        "{commit:?}"
    );
    assert!(commit[3] < 5.0, "one metro: a few ms");
}

#[test]
fn status_test_matrix_and_probe_count() {
    let out = run_file("cladnet-placement.toml", &[]);
    let t = table(&out, "latency_matrix.csv");
    let (cm, cl, cs, cd, csent) = (
        col(t, "mcis"),
        col(t, "level"),
        col(t, "src"),
        col(t, "dst"),
        col(t, "probes_sent"),
    );
    let overlay: Vec<&Vec<String>> = t.rows().iter().filter(|r| r[cm] == "overlay").collect();
    assert!(
        overlay.iter().all(|r| r[cl] == "vm" && r[csent] == "10"),
        "8 VMs: per VM, 10 probes each"
    );
    let mut srcs: Vec<&str> = overlay.iter().map(|r| r[cs].as_str()).collect();
    srcs.sort();
    srcs.dedup();
    let mut dsts: Vec<&str> = overlay.iter().map(|r| r[cd].as_str()).collect();
    dsts.sort();
    dsts.dedup();
    assert_eq!(
        dsts.len(),
        8,
        "every VM of the overlay is a destination, itself included"
    );
    assert_eq!(overlay.len(), srcs.len() * 8);
    // The fleet (200 VMs) is written per cloud pair.
    assert!(
        t.rows()
            .iter()
            .filter(|r| r[cm] == "fleet")
            .all(|r| r[cl] == "cloud")
    );
    let probes = match out.summary.get("status_test_probes") {
        Some(Value::Int(v)) => *v as u64,
        v => panic!("{v:?}"),
    };
    let overlay_probes = (srcs.len() * 8 * 10) as u64;
    assert!(
        probes > overlay_probes,
        "fleet probes counted too: {probes}"
    );
    // Self-pings are loopback-fast; cross-Pacific pairs are not.
    let avg = col(t, "avg_ms");
    for r in &overlay {
        let v = num(&r[avg]);
        if r[cs] == r[cd] {
            assert!(v < 0.1, "{r:?}");
        }
    }
}

#[test]
fn cloud_rtt_covers_every_pair_above_the_floor_and_takes_measurements() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rtt.csv"),
        "src,dst,rtt_ms\naws:ap-northeast-2,azure:koreacentral,9.5\n",
    )
    .unwrap();
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cladnet-placement.toml"),
    )
    .unwrap()
    .replace(
        "[lifecycle]",
        "[network]\nmeasured_rtt = \"rtt.csv\"\n\n[lifecycle]",
    );
    let path = dir.path().join("s.toml");
    std::fs::write(&path, src).unwrap();
    let loaded = cloudtwin::scenario::load(&path, &[]).unwrap();
    let out = simulate(&loaded, &mut RunControl::none());
    let t = table(&out, "cloud_rtt.csv");
    let n = loaded.clouds().len();
    assert_eq!(t.len(), n * n, "ordered pairs, diagonal included");
    let (cf, cp, c95) = (
        col(t, "floor_ms"),
        col(t, "rtt_p50_ms"),
        col(t, "rtt_p95_ms"),
    );
    for r in t.rows() {
        assert!(num(&r[cp]) >= num(&r[cf]), "{r:?}");
        assert!(num(&r[c95]) >= num(&r[cp]), "{r:?}");
    }
    let m = t
        .rows()
        .iter()
        .find(|r| r[0] == "aws:ap-northeast-2" && r[1] == "azure:koreacentral")
        .unwrap();
    assert_eq!(num(&m[cp]), 9.5, "measured pair overrides the model");
    assert!(matches!(out.summary.get("cloud_rtt_p50_ms"), Some(Value::Float(v)) if *v > 10.0));
    assert!(matches!(out.summary.get("cloud_rtt_max_ms"), Some(Value::Float(v)) if *v > 200.0));
}
