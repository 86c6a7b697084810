//! Golden results: three committed scenarios, run through the library, give CSV files whose
//! SHA-256 equal the hashes checked in under `tests/golden/` (`sha256sum` format, one line
//! per file of the results folder).
//!
//! Refactoring must not change a byte; a model change that is meant to change results
//! regenerates the hashes on purpose:
//!
//! ```sh
//! CLOUDTWIN_BLESS=1 cargo test --test golden   # rewrites tests/golden/*.sha256
//! git diff tests/golden                        # which files changed: say why in the commit
//! ```

mod common;

use cloudtwin::output::names::file;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// (golden name, scenario file, overrides): small enough for a debug build, and between
/// them every model: VM lifecycle with timeline actions and the per-VM log, monitoring,
/// auto-control with a workload, CLADNet status tests and placement under outages.
const CASES: [(&str, &str, &[&str]); 3] = [
    ("poc", "poc-timeline.toml", &["output.vm_events=true"]),
    (
        "autoscale",
        "autoscale-demo.toml",
        &["output.vm_events=true"],
    ),
    ("cladnet", "cladnet-placement.toml", &[]),
];

fn golden_path(name: &str) -> PathBuf {
    common::project_path(&format!("tests/golden/{name}.sha256"))
}

/// `sha256sum`-style lines for every CSV file the run writes, sorted by file name.
fn hashes(name: &str, scenario: &str, sets: &[&str]) -> String {
    let out = common::run_file(&common::scenario_path(scenario), sets);
    let mut files: BTreeMap<String, Vec<u8>> = out
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.to_csv()))
        .collect();
    files.insert(file::SUMMARY.into(), out.summary.to_csv().into_bytes());
    let mut text = String::new();
    for (f, bytes) in files {
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        writeln!(text, "{digest}  {f}").expect("write to a string");
    }
    assert!(!text.is_empty(), "{name}: no files");
    text
}

#[test]
fn committed_scenarios_give_the_golden_bytes() {
    let bless = std::env::var_os("CLOUDTWIN_BLESS").is_some();
    let mut differ = Vec::new();
    for (name, scenario, sets) in CASES {
        let got = hashes(name, scenario, sets);
        let path = golden_path(name);
        if bless {
            std::fs::write(&path, &got).expect("write the golden hashes");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (CLOUDTWIN_BLESS=1 writes it)", path.display()));
        if got != want {
            let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
            let (g, w) = (lines(&got), lines(&want));
            let changed: std::collections::BTreeSet<String> = g
                .iter()
                .filter(|l| !w.contains(l))
                .chain(w.iter().filter(|l| !g.contains(l)))
                .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
                .collect();
            let changed: Vec<String> = changed.into_iter().collect();
            differ.push(format!("{name} ({scenario}): {}", changed.join(", ")));
        }
    }
    assert!(
        differ.is_empty(),
        "results changed:\n  {}\nIf the change is intended, run CLOUDTWIN_BLESS=1 cargo test \
         --test golden and commit tests/golden with the reason.",
        differ.join("\n  ")
    );
}
