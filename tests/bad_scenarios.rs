//! Malformed scenarios are refused cleanly.
//!
//! Every `tests/bad_scenarios/*.toml` holds one mistake and says which error it expects in two
//! header comments (`# expect-key: <key path>` or `-`, `# expect-text: <substring>`). For each
//! file, `cloudtwin run` and `cloudtwin validate` must exit 2 with exactly one `error: ` line
//! naming the file, the key and the problem, must not panic, and must write nothing at all.
//! Bad `--set` arguments on a good scenario are checked the same way.

mod common;

use common::{cloudtwin, default_scenario, entries, project_path, write_file};
use std::path::PathBuf;

/// What a bad scenario file says its error should be.
#[derive(Debug)]
struct Expected {
    path: PathBuf,
    /// `None` for errors without a key (syntax errors).
    key: Option<String>,
    text: String,
}

fn bad_scenarios() -> Vec<Expected> {
    let dir = project_path("tests/bad_scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/bad_scenarios exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable scenario");
            let header = |tag: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(tag))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_else(|| panic!("{} has no `{tag}` line", path.display()))
            };
            let key = header("# expect-key:");
            let text = header("# expect-text:");
            Expected {
                key: (key != "-").then_some(key),
                text,
                path,
            }
        })
        .collect()
}

/// Runs `args` in an empty temporary folder (with `--out <tmp>/out` for `run`) and checks the
/// error contract. Returns a description of what went wrong, if anything.
fn check_refused(args: &[&str], file_name: &str, key: Option<&str>, text: &str) -> Option<String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let mut cmd = cloudtwin();
    cmd.current_dir(tmp.path()).args(args);
    if args[0] == "run" {
        cmd.arg("--out").arg(&out);
    }
    let o = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let what = format!("`cloudtwin {}`", args.join(" "));
    let mut problems = Vec::new();
    if o.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, expected 2", o.status.code()));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.len() != 1 {
        problems.push(format!("{} stderr lines, expected 1", lines.len()));
    }
    let first = lines.first().copied().unwrap_or("");
    if !first.starts_with("error: ") {
        problems.push("stderr does not start with `error: `".into());
    }
    if !first.contains(file_name) {
        problems.push(format!("the error does not name `{file_name}`"));
    }
    if let Some(key) = key {
        let named = format!("key `{key}`");
        if !first.contains(&named) {
            problems.push(format!("the error does not contain {named}"));
        }
    }
    if !first.contains(text) {
        problems.push(format!("the error does not contain `{text}`"));
    }
    if stderr.contains("panicked")
        || stderr.contains("RUST_BACKTRACE")
        || stderr.contains("stack backtrace")
    {
        problems.push("panic or backtrace on stderr".into());
    }
    let left = entries(tmp.path());
    if !left.is_empty() {
        problems.push(format!("wrote {left:?}"));
    }
    if problems.is_empty() {
        None
    } else {
        let short: String = stderr.chars().take(400).collect();
        Some(format!(
            "{what}: {}\n    stderr: {short:?}",
            problems.join("; ")
        ))
    }
}

#[test]
fn there_are_enough_bad_scenarios() {
    let all = bad_scenarios();
    assert!(all.len() >= 14, "only {} bad scenarios", all.len());
    for e in &all {
        assert!(
            !e.text.is_empty(),
            "{}: empty expect-text",
            e.path.display()
        );
    }
}

#[test]
fn run_refuses_every_bad_scenario_and_writes_nothing() {
    let mut failures = Vec::new();
    for e in bad_scenarios() {
        let path = e.path.to_str().expect("utf-8 path");
        let name = e.path.file_name().unwrap().to_str().unwrap();
        failures.extend(check_refused(
            &["run", path],
            name,
            e.key.as_deref(),
            &e.text,
        ));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn validate_refuses_every_bad_scenario_and_writes_nothing() {
    let mut failures = Vec::new();
    for e in bad_scenarios() {
        let path = e.path.to_str().expect("utf-8 path");
        let name = e.path.file_name().unwrap().to_str().unwrap();
        failures.extend(check_refused(
            &["validate", path],
            name,
            e.key.as_deref(),
            &e.text,
        ));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A scenario that is fine on its own.
fn good_scenario() -> String {
    default_scenario().to_str().expect("utf-8 path").to_string()
}

#[test]
fn bad_set_arguments_are_refused_and_write_nothing() {
    let good = good_scenario();
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "simulation.seed=-1",
            Some("simulation.seed"),
            "invalid value",
        ),
        (
            "lifecycle.create_failure_p=2",
            Some("lifecycle.create_failure_p"),
            "within [0, 1]",
        ),
        (
            "simulation.nope=1",
            Some("simulation.nope"),
            "unknown field",
        ),
        (
            "simulation.duration=-5s",
            Some("simulation.duration"),
            "negative",
        ),
        (
            "simulation.seed.x=1",
            Some("simulation.seed"),
            "not a table",
        ),
        (
            "topology.mix.aws=1000",
            Some("topology.mix.aws"),
            "asks for 1000 clouds",
        ),
        (
            "lifecycle.api_rate=-5",
            Some("lifecycle.api_rate"),
            "`api_rate` must be a finite number >= 0",
        ),
        (
            "lifecycle.providers.nosuch.api_rate=1",
            Some("lifecycle.providers.nosuch"),
            "unknown provider `nosuch`",
        ),
        (
            "monitoring.collectors.dead_after_rounds=0",
            Some("monitoring.collectors.dead_after_rounds"),
            "must be at least 1",
        ),
        ("simulation..seed=1", None, "empty segment"),
        ("novalue", None, "expected key.path=value"),
    ];
    let mut failures = Vec::new();
    for (set, key, text) in cases {
        let shown = format!("--set {set}");
        for cmd in ["run", "validate"] {
            failures.extend(check_refused(
                &[cmd, &good, "--set", set],
                &shown,
                *key,
                text,
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("missing.toml");
    let missing = missing.to_str().unwrap();
    let run = tempfile::tempdir().expect("tempdir");
    let o = cloudtwin()
        .current_dir(run.path())
        .args(["run", missing, "--out"])
        .arg(run.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("missing.toml"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot read the file"), "{stderr}");
    assert!(entries(run.path()).is_empty(), "nothing written");
}

/// Writes `text` into a fresh folder and checks `run` and `validate` refuse it cleanly.
fn check_text_refused(text: &str, key: Option<&str>, expect: &str) {
    let src = tempfile::tempdir().expect("tempdir");
    let path = write_file(src.path(), "inline.toml", text);
    let path = path.to_str().unwrap();
    let failures: Vec<String> = ["run", "validate"]
        .iter()
        .filter_map(|cmd| check_refused(&[cmd, path], "inline.toml", key, expect))
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn overflowing_compound_duration_is_bad_input() {
    let half = "170141183460469231731687303715884105728ns"; // 2^127 ns
    check_text_refused(
        &format!(
            "[simulation]\nname = \"bad\"\nduration = \"{half}{half}\"\n\n[topology]\nvms_per_cloud = 2\nmix = {{ aws = 2 }}\n"
        ),
        Some("simulation.duration"),
        "too large",
    );
}

#[test]
fn a_mix_of_zero_clouds_is_no_clouds() {
    check_text_refused(
        "[simulation]\nname = \"bad\"\nduration = \"10m\"\n\n[topology]\nvms_per_cloud = 2\nmix = { aws = 0 }\n",
        Some("topology"),
        "no clouds",
    );
}

#[test]
fn errors_stay_on_one_line_when_names_hold_newlines() {
    check_text_refused(
        "[simulation]\nname = \"bad\"\n\"se\\ned\" = 1\n\n[topology]\nmix = { aws = 1 }\n",
        // However the name is escaped, the message stays on one line.
        None,
        "unknown field",
    );
}
