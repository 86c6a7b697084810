//! What `cloudtwin latency fit` prints, and `latency.toml` rewritten with a fit's values
//! (`--write`; comments and layout kept).

use super::agreement::{Agreement, dataset_agreement};
use super::data::{DATASETS, Datasets};
use super::distribution::{DistributionCheck, PROBES};
use super::validate::{self, EVAL_SEED, ErrorStats, Fold, Scored};
use super::{FitReport, round_to};
use crate::network::coefficients::Coefficients;
use std::fmt::Write as _;

/// One line per fitted coefficient set.
pub fn describe(c: &Coefficients) -> String {
    let ic: Vec<String> = c
        .cross_provider
        .interconnect_ms
        .iter()
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect();
    format!(
        "stretch far {:.2} near {:.2} scale {} km sea {:.2}; short path {:.1} ms scale {} km; direct {} km, \
         margin {} km; cross factor {:.2}, interconnect ms [{}] default {:.2}; published offset {:.1} ms",
        c.stretch.far,
        c.stretch.near,
        c.stretch.scale_km,
        c.stretch.sea,
        c.short_path.add_ms,
        c.short_path.scale_km,
        c.routing.direct_km,
        c.routing.access_margin_km,
        c.cross_provider.factor,
        ic.join(", "),
        c.cross_provider.default_interconnect_ms,
        c.measurement.published_offset_ms,
    )
}

/// A table of error statistics, one row per (name, stats).
pub fn error_table(first: &str, rows: &[(String, ErrorStats)]) -> String {
    let mut s = format!(
        "{:<26} {:>6} {:>10} {:>9} {:>10} {:>9}\n",
        first, "pairs", "median %", "P90 %", "median ms", "P90 ms"
    );
    for (name, e) in rows {
        let _ = writeln!(
            s,
            "{:<26} {:>6} {:>10.1} {:>9.1} {:>10.2} {:>9.2}",
            name, e.n, e.median_abs_pct, e.p90_abs_pct, e.median_abs_ms, e.p90_abs_ms
        );
    }
    s
}

fn fold_table(folds: &[Fold]) -> Vec<(String, ErrorStats)> {
    let mut rows: Vec<(String, ErrorStats)> = folds
        .iter()
        .map(|f| (f.held_out.clone(), validate::stats(&f.scored, |_| true)))
        .collect();
    rows.push((
        "all held out".into(),
        validate::stats(&validate::pooled(folds), |_| true),
    ));
    rows
}

/// The datasets' agreement and the model's held-out error on the same pairs.
fn agreement_table(rows: &[Agreement]) -> String {
    let mut s = format!(
        "{:<26} {:>6} {:>14} {:>11} {:>15} {:>12}\n",
        "datasets", "pairs", "data median %", "data P90 %", "model median %", "model P90 %"
    );
    for a in rows {
        let _ = writeln!(
            s,
            "{:<26} {:>6} {:>14.1} {:>11.1} {:>15.1} {:>12.1}",
            a.datasets,
            a.pairs,
            a.data.median_abs_pct,
            a.data.p90_abs_pct,
            a.model.median_abs_pct,
            a.model.p90_abs_pct
        );
    }
    s
}

/// Same-metro pairs: measured and the model in sample and held out.
fn same_metro_table(r: &FitReport) -> String {
    let held = |folds: &[Fold], o: &Scored| -> f64 {
        folds
            .iter()
            .flat_map(|f| f.scored.iter())
            .find(|x| {
                x.obs.dataset == o.obs.dataset
                    && x.obs.src.key() == o.obs.src.key()
                    && x.obs.dst.key() == o.obs.dst.key()
            })
            .map_or(f64::NAN, |x| x.model_ms)
    };
    let mut s = format!(
        "{:<26} {:<26} {:>5} {:>9} {:>9} {:>9} {:>9}\n",
        "src", "dst", "km", "measured", "in sample", "LODO", "LOPPO"
    );
    for o in r.in_sample.iter().filter(|x| x.same_metro()) {
        let _ = writeln!(
            s,
            "{:<26} {:<26} {:>5.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            o.obs.src.key(),
            o.obs.dst.key(),
            o.obs.d_km(),
            o.obs.rtt_ms,
            o.model_ms,
            held(&r.lodo, o),
            held(&r.loppo, o)
        );
    }
    s
}

fn distribution_table(d: &DistributionCheck) -> String {
    let mut s = format!(
        "{:<28} {:>17} {:>17}\n",
        "per series, % of avg", "Skyplane med/P90", "model med/P90"
    );
    for (k, name) in ["avg - min", "max - avg", "stddev (ping mdev)"]
        .iter()
        .enumerate()
    {
        let _ = writeln!(
            s,
            "{:<28} {:>8.2} / {:>6.2} {:>8.2} / {:>6.2}",
            name,
            d.measured[k].median_pct,
            d.measured[k].p90_pct,
            d.model[k].median_pct,
            d.model[k].p90_pct
        );
    }
    let _ = writeln!(
        s,
        "P95/P50: Azure median {:.3}, model {:.3}; model P95 vs Azure P95 ({} pairs): median {:.1}%, P90 {:.1}%",
        d.azure_p95_over_p50,
        d.model_p95_over_p50,
        d.p95.n,
        d.p95.median_abs_pct,
        d.p95.p90_abs_pct
    );
    s
}

/// Human-readable report of a fit, with the shipped model's errors for comparison.
pub fn render_report(data: &Datasets, shipped: &[Scored], r: &FitReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "data: {} median pairs ({}), Azure P95/P50 median {:.3}, AWS direction asymmetry median {:.2}%",
        data.observations.len(),
        DATASETS
            .iter()
            .map(|d| format!("{d} {}", data.of(d).count()))
            .collect::<Vec<_>>()
            .join(", "),
        data.azure_p95_over_p50,
        data.aws_asymmetry_rel * 100.0
    );
    for e in &data.excluded {
        let _ = writeln!(s, "excluded: {e}");
    }
    let _ = writeln!(
        s,
        "\nshipped coefficients (models/latency.toml), seed {EVAL_SEED}, in sample:"
    );
    s.push_str(&error_table("dataset", &validate::by_dataset(shipped)));
    s.push_str(&error_table("distance", &validate::by_band(shipped)));
    let _ = writeln!(
        s,
        "\nfit on all datasets ({} sweeps, loss {:.4}):\n  {}\nin sample:",
        r.fitted.sweeps,
        r.fitted.loss,
        describe(&r.fitted.coefficients)
    );
    s.push_str(&error_table("dataset", &validate::by_dataset(&r.in_sample)));
    s.push_str(&error_table("distance", &validate::by_band(&r.in_sample)));
    let _ = writeln!(
        s,
        "\nleave one dataset out (fit on the others, score this one):"
    );
    s.push_str(&error_table("held out", &fold_table(&r.lodo)));
    s.push_str(&error_table(
        "distance",
        &validate::by_band(&validate::pooled(&r.lodo)),
    ));
    for f in &r.lodo {
        let _ = writeln!(
            s,
            "  without {}: {}",
            f.held_out,
            describe(&f.fitted.coefficients)
        );
    }
    let _ = writeln!(
        s,
        "\nleave one provider pair out (fit without any pair of these providers in any dataset, score its Skyplane pings):"
    );
    s.push_str(&error_table("held out", &fold_table(&r.loppo)));
    s.push_str(&error_table(
        "distance",
        &validate::by_band(&validate::pooled(&r.loppo)),
    ));
    for f in &r.loppo {
        let _ = writeln!(
            s,
            "  without {}: {}",
            f.held_out,
            describe(&f.fitted.coefficients)
        );
    }
    let _ = writeln!(
        s,
        "\ndatasets against each other (region pairs two datasets measured: each one's value scored as a \
         prediction of the other's, both ways; the model held out by dataset on the same measurements):"
    );
    s.push_str(&agreement_table(&dataset_agreement(&validate::pooled(
        &r.lodo,
    ))));
    let _ = writeln!(
        s,
        "\nsame-metro pairs (different providers < {} km), ms:",
        validate::SAME_METRO_KM
    );
    s.push_str(&same_metro_table(r));
    let _ = writeln!(
        s,
        "\nprobe distribution ({} Skyplane series with mdev; model: {PROBES} probes per series):",
        r.distribution.series
    );
    s.push_str(&distribution_table(&r.distribution));
    s
}

/// Every observation with the fit's predictions (CSV): in sample, and held out by leaving its
/// dataset out and (Skyplane pings) its provider pair out. Columns are documented in the header.
pub fn residuals_csv(r: &FitReport) -> String {
    let lookup = |folds: &[Fold]| -> std::collections::BTreeMap<(&str, String, String), f64> {
        folds
            .iter()
            .flat_map(|f| f.scored.iter())
            .map(|x| {
                (
                    (x.obs.dataset, x.obs.src.key(), x.obs.dst.key()),
                    x.model_ms,
                )
            })
            .collect()
    };
    let (lodo, loppo) = (lookup(&r.lodo), lookup(&r.loppo));
    let mut s = String::from("dataset,src,dst,d_km,measured_ms,in_sample_ms,lodo_ms,loppo_ms\n");
    for x in &r.in_sample {
        let k = (x.obs.dataset, x.obs.src.key(), x.obs.dst.key());
        let cell = |v: Option<&f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
        let _ = writeln!(
            s,
            "{},{},{},{:.1},{},{:.3},{},{}",
            k.0,
            k.1,
            k.2,
            x.obs.d_km(),
            x.obs.rtt_ms,
            x.model_ms,
            cell(lodo.get(&k)),
            cell(loppo.get(&k))
        );
    }
    s
}

/// `text` (a `latency.toml`) with the fitted values and provenance replaced, comments kept.
pub fn rewrite_toml(text: &str, data: &Datasets, r: &FitReport) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let c = &r.fitted.coefficients;
    let mut set = |table: &str, key: &str, v: toml_edit::Value| -> Result<(), String> {
        let t = doc
            .get_mut(table)
            .and_then(|t| t.as_table_mut())
            .ok_or_else(|| format!("latency.toml has no [{table}] table"))?;
        match t.get_mut(key).and_then(|i| i.as_value_mut()) {
            Some(old) => {
                let decor = old.decor().clone();
                *old = v;
                *old.decor_mut() = decor;
            }
            None => {
                t.insert(key, toml_edit::value(v));
            }
        }
        Ok(())
    };
    set("stretch", "far", c.stretch.far.into())?;
    set("stretch", "near", c.stretch.near.into())?;
    set("stretch", "scale_km", c.stretch.scale_km.into())?;
    set("stretch", "sea", c.stretch.sea.into())?;
    set("short_path", "add_ms", c.short_path.add_ms.into())?;
    set("short_path", "scale_km", c.short_path.scale_km.into())?;
    set("routing", "direct_km", c.routing.direct_km.into())?;
    set(
        "routing",
        "access_margin_km",
        c.routing.access_margin_km.into(),
    )?;
    set("cross_provider", "factor", c.cross_provider.factor.into())?;
    let mut ic = toml_edit::InlineTable::new();
    for (k, v) in &c.cross_provider.interconnect_ms {
        ic.insert(k, (*v).into());
    }
    set("cross_provider", "interconnect_ms", ic.into())?;
    set(
        "cross_provider",
        "default_interconnect_ms",
        c.cross_provider.default_interconnect_ms.into(),
    )?;
    set(
        "measurement",
        "published_offset_ms",
        c.measurement.published_offset_ms.into(),
    )?;
    set("jitter", "p95_over_p50", c.jitter.p95_over_p50.into())?;
    set("jitter", "probe_sd_rel", c.jitter.probe_sd_rel.into())?;
    set("jitter", "asymmetry_rel", c.jitter.asymmetry_rel.into())?;
    for (file, hash) in &data.sha256 {
        let key = format!("{}_sha256", file.trim_end_matches(".csv"));
        set("provenance", &key, hash.as_str().into())?;
    }
    set("provenance", "pairs", (r.fitted.pairs as i64).into())?;
    set("provenance", "loss", round_to(r.fitted.loss, 6).into())?;
    let out = doc.to_string();
    Coefficients::from_toml(&out)?;
    Ok(out)
}
