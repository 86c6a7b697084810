//! The latency model (`cloudtwin::network`) and `cloudtwin latency`: the fibre floor is never
//! beaten anywhere in the catalogue, matrices are reproducible from the seed, the two directions
//! of a pair are close, the shipped coefficients meet the calibration aims on the published
//! matrices, measured overrides apply, and the command's output and errors are as documented.

mod common;

use cloudtwin::engine::rng::RngFactory;
use cloudtwin::network::fit;
use cloudtwin::network::{LatencyModel, MeasuredMatrix, RttStat, fibre_floor_ms};
use cloudtwin::topology::{Catalogue, Region, great_circle_km};
use common::{cloudtwin, output_of, project_path, stdout_of};
use std::path::PathBuf;

fn region(cat: &Catalogue, key: &str) -> Region {
    let (p, r) = key.split_once(':').unwrap();
    cat.find(p, r).unwrap_or_else(|| panic!("{key}")).clone()
}

fn data_dir() -> Option<PathBuf> {
    let d = project_path("../shared/data");
    if d.join("aws_rtt_p50.csv").exists() {
        Some(d)
    } else {
        eprintln!("skipped: {} not found", d.display());
        None
    }
}

/// Every tenth region of the catalogue (about 30 regions of all providers).
fn sample_regions(cat: &Catalogue) -> Vec<Region> {
    cat.regions().iter().step_by(10).cloned().collect()
}

#[test]
fn fibre_floor_is_never_beaten_anywhere() {
    let cat = Catalogue::builtin();
    let m = LatencyModel::builtin(7);
    let fam = RngFactory::new(7).family("test.probe");
    let regions = cat.regions();
    let mut checked = 0u64;
    for (i, a) in regions.iter().enumerate() {
        for (j, b) in regions.iter().enumerate() {
            let floor = fibre_floor_ms(great_circle_km(a.lat, a.lon, b.lat, b.lon));
            for stat in [RttStat::P50, RttStat::P95, RttStat::Mean] {
                let v = m.rtt_ms(a, b, stat);
                assert!(
                    v >= floor && v.is_finite(),
                    "{} -> {} {stat:?}: {v} < floor {floor}",
                    a.key(),
                    b.key()
                );
            }
            if (i * regions.len() + j).is_multiple_of(13) {
                let mut rng = fam.rng((i * regions.len() + j) as u64);
                for _ in 0..4 {
                    let v = m.sample_rtt_ms(a, b, &mut rng);
                    assert!(v >= floor, "{} -> {} probe {v} < {floor}", a.key(), b.key());
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, (regions.len() * regions.len()) as u64);
}

#[test]
fn floor_holds_for_measurements_and_extreme_coefficients() {
    let cat = Catalogue::builtin();
    let (a, b) = (
        region(&cat, "aws:us-east-1"),
        region(&cat, "aws:ap-southeast-2"),
    );
    let floor = fibre_floor_ms(great_circle_km(a.lat, a.lon, b.lat, b.lon));
    // A measurement below the floor (wrong labels, say) is raised to it.
    let m = LatencyModel::builtin(1).with_measured(
        MeasuredMatrix::from_csv("src,dst,rtt_ms\naws:us-east-1,aws:ap-southeast-2,5\n").unwrap(),
    );
    assert_eq!(m.median_rtt_ms(&a, &b), floor);
    // Stretch 1 and a large negative per-pair effect still cannot go below the floor.
    let mut c = LatencyModel::builtin(1).coefficients().clone();
    c.stretch.far = 1.0;
    c.stretch.near = 1.0;
    c.jitter.pair_sigma = 0.5;
    for seed in 0..50 {
        let m = LatencyModel::from_coefficients(c.clone(), seed).unwrap();
        assert!(m.median_rtt_ms(&a, &b) >= floor);
    }
}

#[test]
fn same_seed_same_matrix_other_seed_close() {
    let cat = Catalogue::builtin();
    let regions = sample_regions(&cat);
    let m1 = LatencyModel::builtin(11).matrix(&regions, RttStat::P50);
    let again = LatencyModel::builtin(11).matrix(&regions, RttStat::P50);
    assert_eq!(m1, again, "same seed, same matrix (bit for bit)");
    let m2 = LatencyModel::builtin(12).matrix(&regions, RttStat::P50);
    assert_ne!(m1, m2, "another seed draws other per-pair effects");
    let mut rel: Vec<f64> = Vec::new();
    for (r1, r2) in m1.iter().zip(&m2) {
        for (x, y) in r1.iter().zip(r2) {
            rel.push((x / y - 1.0).abs());
        }
    }
    rel.sort_by(f64::total_cmp);
    let (median, max) = (rel[rel.len() / 2], rel[rel.len() - 1]);
    assert!(median > 0.0 && median < 0.05, "median change {median}");
    assert!(max < 0.15, "max change {max}");
}

#[test]
fn directions_differ_by_about_a_millisecond() {
    let cat = Catalogue::builtin();
    let regions = sample_regions(&cat);
    let m = LatencyModel::builtin(5);
    let mut diffs = Vec::new();
    for (i, a) in regions.iter().enumerate() {
        for b in &regions[i + 1..] {
            let (ab, ba) = (m.median_rtt_ms(a, b), m.median_rtt_ms(b, a));
            assert!(
                (ab / ba - 1.0).abs() < 0.05,
                "{} <-> {}: {ab} vs {ba}",
                a.key(),
                b.key()
            );
            diffs.push((ab - ba).abs());
        }
    }
    diffs.sort_by(f64::total_cmp);
    let median = diffs[diffs.len() / 2];
    assert!(
        (0.3..3.0).contains(&median),
        "median |a->b - b->a| {median} ms"
    );
}

#[test]
fn shipped_coefficients_meet_the_calibration_aims() {
    let Some(dir) = data_dir() else { return };
    let cat = Catalogue::builtin();
    let data = fit::load_datasets(&dir, &cat).unwrap();
    let count = |d: &str| data.of(d).count();
    assert_eq!(
        (count("aws"), count("azure"), count("ibm")),
        (992, 2862, 156)
    );
    assert!(count("skyplane") > 4000, "{}", count("skyplane"));
    let model = LatencyModel::builtin(fit::EVAL_SEED);
    let scored = fit::validate::score(model.coefficients(), &data.observations).unwrap();
    let errs = fit::validate::by_dataset(&scored);
    assert_eq!(errs.len(), 4);
    for (ds, e) in &errs {
        println!(
            "{ds}: n {} median {:.1}% P90 {:.1}%",
            e.n, e.median_abs_pct, e.p90_abs_pct
        );
        // The in-sample figures of models/README.md, with a little slack.
        assert!(
            e.median_abs_pct < 8.0,
            "{ds}: median {:.1}%",
            e.median_abs_pct
        );
        assert!(e.p90_abs_pct < 20.5, "{ds}: P90 {:.1}%", e.p90_abs_pct);
    }
    // By distance (short pairs scatter most: routes differ more than distance says).
    let limits = [(17.0, 46.0), (13.0, 33.0), (7.0, 17.0)];
    for ((band, e), (median, p90)) in fit::validate::by_band(&scored).iter().zip(limits) {
        println!(
            "{band}: n {} median {:.1}% P90 {:.1}% ({:.2} / {:.2} ms)",
            e.n, e.median_abs_pct, e.p90_abs_pct, e.median_abs_ms, e.p90_abs_ms
        );
        assert!(
            e.median_abs_pct < median && e.p90_abs_pct < p90,
            "{band}: {e:?}"
        );
    }
    let metro = fit::validate::stats(&scored, fit::Scored::same_metro);
    assert!(metro.n >= 30, "{metro:?}");
    assert!(metro.median_abs_ms < 1.0, "{metro:?}");
    let p95 = fit::validate::evaluate_p95(&model, &data.azure_p95);
    assert!(
        p95.median_abs_pct < 10.0 && p95.p90_abs_pct < 25.0,
        "{p95:?}"
    );
    // The datasets' own disagreement where two measured the same pair (models/README.md: a
    // floor for the errors), and the model's error on the same measurements not far above it.
    let agree = fit::dataset_agreement(&scored);
    let names: Vec<&str> = agree.iter().map(|a| a.datasets.as_str()).collect();
    assert_eq!(names, ["aws / skyplane", "azure / skyplane", "all"]);
    let all = &agree[2];
    println!("datasets against each other: {all:?}");
    assert_eq!(all.pairs, agree[0].pairs + agree[1].pairs);
    assert!(all.pairs >= 400, "{all:?}");
    assert!(
        (3.5..5.5).contains(&all.data.median_abs_pct)
            && (13.0..17.0).contains(&all.data.p90_abs_pct),
        "{all:?}"
    );
    assert!(
        all.model.p90_abs_pct < all.data.p90_abs_pct + 5.0,
        "{all:?}"
    );
    // The shipped jitter ratio is the data's; the probes of one series spread far less.
    let c = model.coefficients();
    assert!((c.jitter.p95_over_p50 - data.azure_p95_over_p50).abs() < 0.001);
    assert!(c.jitter.probe_sd_rel > 0.0 && c.jitter.probe_sd_rel < c.jitter_scale() / 2.0);
}

/// The pairs issue 16 names: same metro, two providers (AWS Paris - Azure France Central about
/// 2 ms, SOURCES.md 1.5-4.4 ms; CB-Larva status tests AWS London - GCP London 3.55 ms and AWS
/// Sydney - GCP Sydney 2.78 ms) within 1.5 ms, and a short same-provider pair (Azure UK South -
/// France Central, 340 km: 10 and 11 ms in Azure's published matrix, compared with the model plus
/// the published-matrix offset) within 2 ms. The previous model said 9.5 ms for the first pair.
#[test]
fn named_short_pairs_match_their_measurements() {
    let cat = Catalogue::builtin();
    let m = LatencyModel::builtin(1);
    let offset = m.coefficients().measurement.published_offset_ms;
    for (a, b, measured, published, tol) in [
        ("aws:eu-west-3", "azure:francecentral", 2.0, false, 1.5),
        ("aws:eu-west-2", "gcp:europe-west2", 3.55, false, 1.5),
        (
            "aws:ap-southeast-2",
            "gcp:australia-southeast1",
            2.78,
            false,
            1.5,
        ),
        ("azure:uksouth", "azure:francecentral", 10.5, true, 2.0),
    ] {
        let (ra, rb) = (region(&cat, a), region(&cat, b));
        for v in [m.median_rtt_ms(&ra, &rb), m.median_rtt_ms(&rb, &ra)] {
            let v = if published { v + offset } else { v };
            assert!(
                (v - measured).abs() < tol,
                "{a} - {b}: {v:.2} ms, measured {measured}"
            );
        }
    }
}

#[test]
fn measured_matrix_overrides_covered_pairs_only() {
    let cat = Catalogue::builtin();
    let (a, b, c) = (
        region(&cat, "aws:us-east-1"),
        region(&cat, "gcp:europe-west3"),
        region(&cat, "azure:koreacentral"),
    );
    let base = LatencyModel::builtin(3);
    let long =
        MeasuredMatrix::from_csv("src,dst,rtt_ms\naws:us-east-1,gcp:europe-west3,123.5\n").unwrap();
    let m = base.clone().with_measured(long);
    assert_eq!(m.median_rtt_ms(&a, &b), 123.5);
    assert_eq!(
        m.median_rtt_ms(&b, &a),
        123.5,
        "reverse direction falls back"
    );
    assert_eq!(m.median_rtt_ms(&a, &c), base.median_rtt_ms(&a, &c));
    assert!(
        (m.rtt_ms(&a, &b, RttStat::P95) / 123.5 - m.coefficients().jitter.p95_over_p50).abs()
            < 1e-9
    );
    let square = MeasuredMatrix::from_csv(
        "src,aws:us-east-1,azure:koreacentral\naws:us-east-1,0.4,190\nazure:koreacentral,191,\n",
    )
    .unwrap();
    let m = base.clone().with_measured(square);
    assert_eq!(m.median_rtt_ms(&a, &c), 190.0);
    assert_eq!(m.median_rtt_ms(&c, &a), 191.0);
    assert_eq!(m.median_rtt_ms(&a, &a), 0.4);
    assert_eq!(m.median_rtt_ms(&c, &c), base.median_rtt_ms(&c, &c));
    assert_eq!(m.model_median_rtt_ms(&a, &c), base.median_rtt_ms(&a, &c));
}

// ---- command line ----

fn rows(out: &[u8]) -> Vec<(String, String, String)> {
    let text = String::from_utf8(out.to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("src,dst,rtt_ms"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect()
}

#[test]
fn cli_prints_every_ordered_pair_with_three_decimals() {
    let out = stdout_of(cloudtwin().args([
        "latency",
        "--regions",
        "aws:us-east-1,gcp:europe-west3,azure:koreacentral",
    ]));
    let r = rows(out.as_bytes());
    assert_eq!(r.len(), 9);
    let keys = ["aws:us-east-1", "gcp:europe-west3", "azure:koreacentral"];
    let mut k = 0;
    for s in keys {
        for d in keys {
            assert_eq!((r[k].0.as_str(), r[k].1.as_str()), (s, d));
            let (int, frac) = r[k].2.split_once('.').unwrap();
            assert!(int.parse::<u32>().is_ok() && frac.len() == 3, "{}", r[k].2);
            k += 1;
        }
    }
    // Diagonal: same region, 0.1-2 ms.
    for row in r.iter().filter(|x| x.0 == x.1) {
        let v: f64 = row.2.parse().unwrap();
        assert!((0.1..=2.0).contains(&v), "{row:?}");
    }
    // Same seed, same bytes; the default seed is 1.
    let again = cloudtwin()
        .args([
            "latency",
            "--regions",
            "aws:us-east-1,gcp:europe-west3,azure:koreacentral",
            "--seed",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.as_bytes(), again.stdout);
}

#[test]
fn cli_p95_exceeds_p50_and_out_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let list = "aws:us-east-1,aws:eu-central-1,gcp:asia-northeast1,ibm:us-south";
    let p50 = cloudtwin()
        .args(["latency", "--regions", list])
        .output()
        .unwrap();
    let file = dir.path().join("p95.csv");
    cloudtwin()
        .args(["latency", "--regions", list, "--stat", "p95", "--out"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    let p95 = std::fs::read(&file).unwrap();
    let (a, b) = (rows(&p50.stdout), rows(&p95));
    assert_eq!(a.len(), 16);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1));
        let (v50, v95): (f64, f64) = (x.2.parse().unwrap(), y.2.parse().unwrap());
        assert!(v95 > v50, "{x:?} {y:?}");
    }
    let mean = cloudtwin()
        .args(["latency", "--regions", list, "--stat", "mean"])
        .output()
        .unwrap();
    assert!(mean.status.success());
}

#[test]
fn cli_unknown_regions_exit_2_and_are_named() {
    let out = cloudtwin()
        .args([
            "latency",
            "--regions",
            "aws:us-east-9,gcp:europe-west3,azure:atlantis",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aws:us-east-9") && err.contains("azure:atlantis"),
        "{err}"
    );
    assert!(!err.contains("gcp:europe-west3"), "{err}");
    assert!(out.stdout.is_empty());
    // No regions at all, or a bad --stat, are bad input too.
    cloudtwin().args(["latency"]).assert().code(2);
    cloudtwin()
        .args(["latency", "--regions", "aws:us-east-1", "--stat", "p99"])
        .assert()
        .code(2);
}

#[test]
fn cli_regions_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("regions.csv");
    std::fs::write(&f, "provider,region\naws,us-east-1\nazure,koreacentral\n").unwrap();
    let out = stdout_of(cloudtwin().args(["latency", "--regions-file"]).arg(&f));
    let direct = cloudtwin()
        .args(["latency", "--regions", "aws:us-east-1,azure:koreacentral"])
        .output()
        .unwrap();
    assert_eq!(out.as_bytes(), direct.stdout);
    assert_eq!(rows(out.as_bytes()).len(), 4);

    std::fs::write(&f, "provider,region\naws,us-east-1\ngcp,nowhere-1\n").unwrap();
    let (code, _, err) = output_of(cloudtwin().args(["latency", "--regions-file"]).arg(&f));
    assert_eq!(code, 2);
    assert!(err.contains("gcp:nowhere-1"));

    std::fs::write(&f, "cloud\naws:us-east-1\n").unwrap();
    let (code, _, err) = output_of(cloudtwin().args(["latency", "--regions-file"]).arg(&f));
    assert_eq!(code, 2);
    assert!(err.contains("provider,region"));

    cloudtwin()
        .args(["latency", "--regions-file"])
        .arg(dir.path().join("missing.csv"))
        .assert()
        .code(2);
}

#[test]
fn cli_measured_override_and_fit_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("measured.csv");
    std::fs::write(
        &f,
        "src,dst,rtt_ms\naws:us-east-1,azure:koreacentral,150.25\n",
    )
    .unwrap();
    let out = stdout_of(
        cloudtwin()
            .args([
                "latency",
                "--regions",
                "aws:us-east-1,azure:koreacentral",
                "--measured",
            ])
            .arg(&f),
    );
    let r = rows(out.as_bytes());
    assert_eq!(r[1].2, "150.250");
    assert_eq!(r[2].2, "150.250");
    std::fs::write(&f, "src,dst,rtt_ms\naws:us-east-1,azure:koreacentral,x\n").unwrap();
    let (code, _, err) = output_of(
        cloudtwin()
            .args(["latency", "--regions", "aws:us-east-1", "--measured"])
            .arg(&f),
    );
    assert_eq!(code, 2);
    assert!(err.contains("line 2"));
    // `latency fit` without the data folder is bad input.
    cloudtwin()
        .args(["latency", "fit", "--data"])
        .arg(dir.path().join("nope"))
        .assert()
        .code(2);
}

#[test]
fn cli_fit_names_the_bad_line_of_a_data_file() {
    let Some(dir) = data_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for f in fit::DATA_FILES {
        std::fs::copy(dir.join(f), tmp.path().join(f)).unwrap();
    }
    let sky = tmp.path().join("skyplane_rtt_cross_cloud.csv");
    let text = std::fs::read_to_string(&sky).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "gcp:atlantis1-a,PREMIUM,n2-standard-4,aws:us-east-1,PREMIUM,m5.large,1,2,3,";
    std::fs::write(&sky, lines.join("\n")).unwrap();
    let (code, out, err) = output_of(
        cloudtwin()
            .args(["latency", "fit", "--data"])
            .arg(tmp.path()),
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("skyplane_rtt_cross_cloud.csv line 3") && err.contains("gcp:atlantis1-a"),
        "{err}"
    );
    lines[2] = "aws:us-east-1,PREMIUM,m5.large,aws:us-west-2,PREMIUM,m5.large,60,sixty,61,0.1";
    std::fs::write(&sky, lines.join("\n")).unwrap();
    let (code, _, err) = output_of(
        cloudtwin()
            .args(["latency", "fit", "--data"])
            .arg(tmp.path()),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 3") && err.contains("avg_rtt `sixty`"),
        "{err}"
    );
}

/// Held-out regression guard, reduced to two folds so that a debug build runs it in seconds:
/// Skyplane left out (no VM-to-VM pings nor cross-provider pairs in the fit) and AWS-Azure left
/// out (its interconnect is the median of the other provider pairs'). The bounds are the
/// figures of the shipped fit (models/README.md) with a little slack.
#[test]
fn held_out_errors_do_not_regress() {
    let Some(dir) = data_dir() else { return };
    let cat = Catalogue::builtin();
    let data = fit::load_datasets(&dir, &cat).unwrap();
    let base = fit::with_data_jitter(LatencyModel::builtin(1).coefficients(), &data);
    let prep = fit::prepare(&base, &data.observations).unwrap();
    let priors = fit::Priors {
        aws_same_region_ms: data.aws_same_region_ms,
    };
    let sky =
        fit::validate::dataset_fold(&base, &data.observations, &prep, priors, "skyplane").unwrap();
    let e = fit::validate::stats(&sky.scored, |_| true);
    assert!(e.n > 4000, "{e:?}");
    assert!(
        e.median_abs_pct < 8.6 && e.p90_abs_pct < 22.2,
        "skyplane held out: {e:?}"
    );
    let metro = fit::validate::stats(&sky.scored, fit::Scored::same_metro);
    assert!(
        metro.median_abs_ms < 1.0,
        "same metro, skyplane held out: {metro:?}"
    );
    let aa =
        fit::validate::provider_pair_fold(&base, &data.observations, &prep, priors, "aws-azure")
            .unwrap();
    assert!(
        !aa.fitted
            .coefficients
            .cross_provider
            .interconnect_ms
            .contains_key("aws-azure")
    );
    let e = fit::validate::stats(&aa.scored, |_| true);
    assert!(e.n > 800, "{e:?}");
    assert!(
        e.median_abs_pct < 7.8 && e.p90_abs_pct < 20.5,
        "aws-azure held out: {e:?}"
    );
    let metro = fit::validate::stats(&aa.scored, fit::Scored::same_metro);
    assert!(metro.n >= 10 && metro.median_abs_ms < 1.0, "{metro:?}");
}

/// The whole calibration: both held-out tables pooled, and the shipped file is the fit's result
/// (`cargo test --release --test latency -- --ignored`; about 10 s).
#[test]
#[ignore]
fn full_calibration_reproduces_the_shipped_file() {
    let Some(dir) = data_dir() else { return };
    let cat = Catalogue::builtin();
    let data = fit::load_datasets(&dir, &cat).unwrap();
    let shipped = LatencyModel::builtin(1).coefficients().clone();
    let r = fit::run_fit(&data, &shipped).unwrap();
    // Issue 16's aims, held out both ways: median <= 8%, P90 <= 20% (the shipped fit: dataset
    // left out 7.4% / 19.9%, provider pair left out 7.4% / 19.8%).
    for folds in [&r.lodo, &r.loppo] {
        let e = fit::validate::stats(&fit::validate::pooled(folds), |_| true);
        assert!(e.median_abs_pct <= 8.0 && e.p90_abs_pct <= 20.0, "{e:?}");
    }
    // Within a series the model's probes spread like a burst of pings (median stddev/avg within
    // a factor 2 of Skyplane's), not like the month's variation (8x before).
    let (model_sd, measured_sd) = (
        r.distribution.model[2].median_pct,
        r.distribution.measured[2].median_pct,
    );
    assert!(
        model_sd > 0.5 * measured_sd && model_sd < 2.0 * measured_sd,
        "{:?}",
        r.distribution
    );
    let c = &r.fitted.coefficients;
    assert_eq!(c.stretch, shipped.stretch);
    assert_eq!(c.short_path, shipped.short_path);
    assert_eq!(c.routing, shipped.routing);
    assert_eq!(c.cross_provider, shipped.cross_provider);
    assert_eq!(c.measurement, shipped.measurement);
    assert_eq!(c.jitter, shipped.jitter);
}
