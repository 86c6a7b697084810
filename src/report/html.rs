//! `report.html`: one self-contained page (inline SVG and CSS, no script, no network) with the
//! run's facts, the plots, the summary table and the resolved scenario; for a sweep folder the
//! sweep's definition, its plots, the chosen metrics per point and the full `sweep_summary.csv`.
//! Nothing in it depends on the clock (the manifest's `wall_time_s` is left out).

use super::data::{Csv, escape, human};
use super::sweep::{self, Summary};
use super::{Options, Plot, ReportError, Skipped};
use crate::output::names::file;
use std::fmt::Write as _;
use std::path::Path;

const CSS: &str = "\
:root{color-scheme:light}\
body{margin:0;background:#f4f5f7;color:#212529;font:16px/1.5 system-ui,-apple-system,'Segoe UI',\
Roboto,'DejaVu Sans',sans-serif}\
main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}\
h1{font-size:28px;margin:8px 0 4px}h2{font-size:22px;margin:36px 0 12px;border-bottom:2px solid \
#d0d4d9;padding-bottom:4px}h3{font-size:18px;margin:0 0 8px}\
.meta{color:#495057;margin:0 0 12px}\
nav{display:flex;flex-wrap:wrap;gap:4px 16px;background:#fff;border:1px solid #d0d4d9;\
border-radius:6px;padding:8px 14px;margin:16px 0}nav a{white-space:nowrap}\
a{color:#1f5f99}\
figure{background:#fff;border:1px solid #d0d4d9;border-radius:6px;margin:0 0 22px;padding:14px}\
figure svg{display:block;max-width:100%;height:auto;margin:0 auto}\
figcaption{color:#495057;font-size:15px;margin-top:8px}\
table{border-collapse:collapse;background:#fff;font-size:14px}\
th,td{border:1px solid #d9dde2;padding:3px 9px;text-align:left;vertical-align:top}\
th{background:#eef0f3}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.summary{columns:2 520px;column-gap:28px}.summary table{width:100%;break-inside:avoid}\
.wide{overflow-x:auto;max-width:100%}\
pre{background:#fff;border:1px solid #d0d4d9;border-radius:6px;padding:12px 14px;overflow-x:auto;\
font-size:13px;line-height:1.4}\
details{margin:12px 0}summary{cursor:pointer;color:#1f5f99}\
.skipped li{color:#495057}\
footer{color:#6c757d;font-size:14px;margin-top:40px}";

/// An inline copy of a plot's SVG: without the XML namespace (HTML needs none, and the page
/// names no URL), labelled for screen readers.
fn inline_svg(p: &Plot) -> String {
    let svg = p
        .svg
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(&p.title)),
        1,
    )
}

fn figure(out: &mut String, p: &Plot) {
    let _ = write!(
        out,
        "<figure id=\"plot-{name}\">\n{svg}<figcaption>{caption} \
         <a href=\"plots/{name}.svg\">SVG</a> · <a href=\"plots/{name}.png\">PNG</a></figcaption>\n\
         </figure>\n",
        name = escape(&p.name),
        svg = inline_svg(p),
        caption = escape(&p.caption),
    );
}

fn skipped_list(out: &mut String, skipped: &[Skipped]) {
    if skipped.is_empty() {
        return;
    }
    out.push_str("<p>Not plotted:</p>\n<ul class=\"skipped\">\n");
    for s in skipped {
        let _ = writeln!(
            out,
            "<li><b>{}</b>: {}</li>",
            escape(&s.name),
            escape(&s.reason)
        );
    }
    out.push_str("</ul>\n");
}

/// A value cell: numbers right-aligned for people, the exact text in the tooltip.
fn value_cell(raw: &str) -> String {
    let v = super::data::num(raw);
    if v.is_finite() {
        let shown = human(v, 6);
        if shown == raw {
            format!("<td class=\"num\">{}</td>", escape(raw))
        } else {
            format!(
                "<td class=\"num\" title=\"{}\">{}</td>",
                escape(raw),
                escape(&shown)
            )
        }
    } else {
        format!("<td>{}</td>", escape(raw))
    }
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn read_text(dir: &Path, name: &str) -> Result<Option<String>, ReportError> {
    let p = dir.join(name);
    if !p.is_file() {
        return Ok(None);
    }
    std::fs::read(&p)
        .map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| ReportError::io(&p, e))
}

/// The page of folder `dir` with its plots.
pub fn page(
    dir: &Path,
    plots: &[Plot],
    skipped: &[Skipped],
    opts: &Options,
) -> Result<String, ReportError> {
    let manifest = read_json(&dir.join(file::MANIFEST));
    let sweep_manifest = read_json(&dir.join(file::SWEEP_MANIFEST));
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| dir.display().to_string());
    let str_at = |v: &Option<serde_json::Value>, path: &[&str]| -> Option<String> {
        let mut cur = v.as_ref()?;
        for k in path {
            cur = cur.get(k)?;
        }
        match cur {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    let is_sweep = crate::output::read::exists(dir, file::SWEEP_SUMMARY);
    let name = str_at(&manifest, &["scenario", "simulation", "name"])
        .or_else(|| str_at(&sweep_manifest, &["name"]))
        .unwrap_or_else(|| folder.clone());
    let heading = if is_sweep && manifest.is_none() {
        format!("Sweep {name}")
    } else {
        format!("Run {name}")
    };

    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>cloudtwin: {title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <h1>{title}</h1>\n",
        title = escape(&heading)
    );

    // Facts.
    let mut facts: Vec<String> = Vec::new();
    if let Some(seed) = str_at(&manifest, &["seed"]) {
        facts.push(format!("seed {}", escape(&seed)));
    }
    if let Some(f) = str_at(&manifest, &["scenario_file"])
        .or_else(|| str_at(&sweep_manifest, &["scenario_file"]))
    {
        facts.push(format!("scenario <code>{}</code>", escape(&f)));
    }
    if let Some(s) = str_at(&manifest, &["sim_time_s"]) {
        facts.push(format!(
            "{} s simulated",
            escape(&human(super::data::num(&s), 6))
        ));
    }
    if let Some(e) = str_at(&manifest, &["events_processed"]) {
        facts.push(format!(
            "{} events",
            escape(&human(super::data::num(&e), 6))
        ));
    }
    if let Some(o) = manifest
        .as_ref()
        .and_then(|m| m.get("overrides"))
        .and_then(|o| o.as_array())
        .filter(|o| !o.is_empty())
    {
        let sets: Vec<String> = o
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect();
        facts.push(format!(
            "overrides <code>{}</code>",
            escape(&sets.join(" "))
        ));
    }
    let tool = str_at(&manifest, &["version"])
        .or_else(|| str_at(&sweep_manifest, &["version"]))
        .map(|v| format!("cloudtwin {v}"));
    if let Some(t) = tool {
        let rev = str_at(&manifest, &["git_revision"])
            .map(|r| format!(" ({})", escape(&r)))
            .unwrap_or_default();
        facts.push(format!("{}{rev}", escape(&t)));
    }
    // (Not the folder's name: a run's report is built in its temporary folder.)
    if !facts.is_empty() {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", facts.join(" · "));
    }

    // Contents.
    let has_summary = crate::output::read::exists(dir, file::SUMMARY);
    let scenario = read_text(dir, file::SCENARIO)?;
    out.push_str("<nav>");
    if is_sweep {
        out.push_str("<a href=\"#sweep\">Sweep</a>");
    }
    out.push_str("<a href=\"#plots\">Plots</a>");
    for p in plots {
        let _ = write!(
            out,
            "<a href=\"#plot-{}\">{}</a>",
            escape(&p.name),
            escape(&p.title)
        );
    }
    if has_summary {
        out.push_str("<a href=\"#summary\">Summary</a>");
    }
    if scenario.is_some() {
        out.push_str("<a href=\"#scenario\">Scenario</a>");
    }
    out.push_str("</nav>\n");

    if is_sweep {
        sweep_section(&mut out, dir, &sweep_manifest, plots, opts)?;
    }

    out.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    if plots.is_empty() {
        out.push_str("<p>No plot: none of their CSV files is in this folder.</p>\n");
    }
    for p in plots {
        figure(&mut out, p);
    }
    skipped_list(&mut out, skipped);
    out.push_str("</section>\n");

    let summary = if has_summary {
        Csv::read(dir, file::SUMMARY)?
    } else {
        None
    };
    if let Some(csv) = summary {
        out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
        out.push_str("<p class=\"meta\">summary.csv: one row per scalar result (hover a rounded value for its exact text).</p>\n<div class=\"summary\">\n");
        // Chunks keep a table from being split across columns badly.
        for chunk in csv.rows.chunks(24) {
            out.push_str("<table>\n<tr><th>metric</th><th>value</th></tr>\n");
            for r in chunk {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td>{}</tr>",
                    escape(csv.cell(r, 0)),
                    value_cell(csv.cell(r, 1))
                );
            }
            out.push_str("</table>\n");
        }
        out.push_str("</div>\n</section>\n");
    }

    if let Some(s) = &scenario {
        let _ = write!(
            out,
            "<section id=\"scenario\">\n<h2>Scenario</h2>\n<p class=\"meta\">scenario.toml: \
             the resolved scenario, every default filled in (re-runnable as is).</p>\n\
             <pre>{}</pre>\n</section>\n",
            escape(s)
        );
    }
    out.push_str(
        "<footer>Built by <code>cloudtwin report</code> from the CSV files of this folder alone; \
         <code>cloudtwin report DIR</code> rebuilds it and <code>plots/</code>.</footer>\n\
         </main>\n</body>\n</html>\n",
    );
    Ok(out)
}

/// The sweep's definition, the chosen metrics per point and the full summary.
fn sweep_section(
    out: &mut String,
    dir: &Path,
    m: &Option<serde_json::Value>,
    plots: &[Plot],
    opts: &Options,
) -> Result<(), ReportError> {
    out.push_str("<section id=\"sweep\">\n<h2>Sweep</h2>\n");
    if let Some(m) = m {
        let mut facts = Vec::new();
        if let Some(axes) = m.get("axes").and_then(|a| a.as_array()) {
            for a in axes {
                let key = a.get("key").and_then(|k| k.as_str()).unwrap_or("");
                let values: Vec<String> = a
                    .get("values")
                    .and_then(|v| v.as_array())
                    .map(|v| {
                        v.iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| x.to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                facts.push(format!(
                    "<code>{}</code> = {}",
                    escape(key),
                    escape(&values.join(", "))
                ));
            }
        }
        let num = |k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
        let runs = m.get("runs").and_then(|r| r.as_array());
        let complete = runs
            .map(|r| {
                r.iter()
                    .filter(|x| x.get("status").and_then(|s| s.as_str()) == Some("complete"))
                    .count()
            })
            .unwrap_or(0);
        facts.push(format!(
            "{} points x {} replications; {} of {} runs complete; base seed {}",
            escape(&num("points")),
            escape(&num("replications")),
            complete,
            runs.map_or(0, |r| r.len()),
            escape(&num("base_seed"))
        ));
        if let Some(sets) = m
            .get("sets")
            .and_then(|s| s.as_array())
            .filter(|s| !s.is_empty())
        {
            let s: Vec<String> = sets
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect();
            facts.push(format!(
                "every run with <code>{}</code>",
                escape(&s.join(" "))
            ));
        }
        out.push_str("<ul>\n");
        for f in facts {
            let _ = writeln!(out, "<li>{f}</li>");
        }
        out.push_str("</ul>\n");
    }
    let Some(csv) = Csv::read(dir, file::SWEEP_SUMMARY)? else {
        out.push_str("</section>\n");
        return Ok(());
    };
    let Ok(s) = Summary::parse(&csv) else {
        out.push_str("<p>sweep_summary.csv cannot be read.</p>\n</section>\n");
        return Ok(());
    };
    let chosen: Vec<String> = if opts.sweep_metrics.is_empty() {
        sweep::default_metrics(&s)
    } else {
        opts.sweep_metrics
            .iter()
            .filter(|m| s.metric(m).is_some())
            .cloned()
            .collect()
    };
    let sweep_plots = plots
        .iter()
        .filter(|p| p.name.starts_with("sweep_"))
        .count();
    let _ = writeln!(
        out,
        "<p class=\"meta\">Mean and 95% confidence interval of the chosen metrics at each point \
         (sweep_summary.csv); {sweep_plots} of them are plotted below.</p>"
    );
    out.push_str("<div class=\"wide\"><table>\n<tr><th>point</th>");
    for k in &s.keys {
        let _ = write!(out, "<th>{}</th>", escape(k));
    }
    for m in &chosen {
        let _ = write!(out, "<th>{}</th>", escape(m));
    }
    out.push_str("</tr>\n");
    for (p, (id, vals)) in s.points.iter().enumerate() {
        let _ = write!(out, "<tr><td>{}</td>", escape(id));
        for v in vals {
            let _ = write!(out, "<td>{}</td>", escape(v));
        }
        for m in &chosen {
            let cell = s
                .metric(m)
                .and_then(|st| st.get(p).cloned().flatten())
                .map(|st| {
                    let half = (st.hi - st.lo) / 2.0;
                    if half.is_finite() {
                        format!("{} ± {}", human(st.mean, 4), human(half, 2))
                    } else {
                        human(st.mean, 4)
                    }
                })
                .unwrap_or_default();
            let _ = write!(out, "<td class=\"num\">{}</td>", escape(&cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    // Every run's own report.
    if let Some(runs) = m
        .as_ref()
        .and_then(|m| m.get("runs"))
        .and_then(|r| r.as_array())
    {
        let listed: Vec<String> = runs
            .iter()
            .filter_map(|r| r.get("id").and_then(|i| i.as_str()))
            .filter(|id| {
                dir.join(file::RUNS_DIR)
                    .join(id)
                    .join(file::REPORT)
                    .is_file()
            })
            .take(2000)
            .map(|id| {
                format!(
                    "<a href=\"runs/{id}/report.html\">{id}</a>",
                    id = escape(id)
                )
            })
            .collect();
        if !listed.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>Reports of the {} runs</summary><p>{}</p></details>",
                listed.len(),
                listed.join(" ")
            );
        }
    }
    let _ = write!(
        out,
        "<details><summary>All of sweep_summary.csv ({} rows)</summary>\n<div class=\"wide\"><table>\n<tr>",
        csv.rows.len()
    );
    for h in &csv.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    let metric_col = csv.col("metric").unwrap_or(0);
    for r in &csv.rows {
        out.push_str("<tr>");
        for (k, c) in r.iter().enumerate() {
            if k > metric_col {
                out.push_str(&value_cell(c));
            } else {
                let _ = write!(out, "<td>{}</td>", escape(c));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n</details>\n</section>\n");
    Ok(())
}
