//! CLADNet outputs of a run: cloud_rtt.csv (every ordered pair, never under the fibre floor,
//! measured overrides applied), the status test's matrix and probe count, and the control-plane
//! placement comparison under zone, region and provider outages.

mod common;

use cloudtwin::output::names::{file, metric};
use common::{
    col, count, float, load_file, num, run_file, run_loaded, scenario_path, table, write_file,
};

#[test]
fn placement_models_trade_availability_for_commit_latency() {
    let out = run_file(&scenario_path("cladnet-placement.toml"), &[]);
    let t = table(&out, file::PLACEMENT);
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
    let out = run_file(&scenario_path("cladnet-placement.toml"), &[]);
    let t = table(&out, file::LATENCY_MATRIX);
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
    let probes = count(&out, metric::STATUS_TEST_PROBES);
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
    write_file(
        dir.path(),
        "rtt.csv",
        "src,dst,rtt_ms\naws:ap-northeast-2,azure:koreacentral,9.5\n",
    );
    let src = std::fs::read_to_string(scenario_path("cladnet-placement.toml"))
        .unwrap()
        .replace(
            "[lifecycle]",
            "[network]\nmeasured_rtt = \"rtt.csv\"\n\n[lifecycle]",
        );
    let path = write_file(dir.path(), "s.toml", &src);
    let loaded = load_file(&path, &[]);
    let out = run_loaded(&loaded);
    let t = table(&out, file::CLOUD_RTT);
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
    assert!(float(&out, metric::CLOUD_RTT_P50_MS) > 10.0);
    assert!(float(&out, metric::CLOUD_RTT_MAX_MS) > 200.0);
}
