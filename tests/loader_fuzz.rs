//! Property tests of the scenario loader: arbitrary text, mutated copies of the default
//! scenario and arbitrary `--set` arguments never make `scenario::from_str` or
//! `Override::parse` panic; every error names its origin (`fuzz.toml...` or `--set ...`); and
//! whatever loads can be printed as resolved TOML that loads again to the same scenario.

mod common;

use cloudtwin::scenario::{self, Loaded, Override, ScenarioError};
use common::load_text;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use std::panic::{AssertUnwindSafe, catch_unwind};

const DEFAULT: &str = include_str!("../scenarios/cloud-twin-100x100.toml");

/// 500 cases per property, or `PROPTEST_CASES` when set (for longer runs).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    ProptestConfig {
        cases,
        // Shrunk failures are reported in the failure message; keep the source tree clean.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Loads `text` with `overrides`, turning a panic into a test failure.
fn load(
    text: &str,
    overrides: &[Override],
) -> Result<Result<Loaded, ScenarioError>, TestCaseError> {
    catch_unwind(AssertUnwindSafe(|| {
        scenario::from_str(text, "fuzz.toml", "fuzz", None, overrides)
    }))
    .map_err(|_| TestCaseError::fail(format!("from_str panicked on {text:?} with {overrides:?}")))
}

/// The loader contract for one input: no panic, errors name their origin, and a loaded
/// scenario's resolved TOML loads again to the same scenario.
fn check(text: &str, overrides: &[Override]) -> Result<(), TestCaseError> {
    match load(text, overrides)? {
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(
                msg.starts_with("fuzz.toml") || msg.starts_with("--set "),
                "error without origin: {msg}"
            );
        }
        Ok(loaded) => {
            let resolved = catch_unwind(AssertUnwindSafe(|| loaded.resolved_toml()))
                .map_err(|_| TestCaseError::fail(format!("resolved_toml panicked for {text:?}")))?;
            match load(&resolved, &[])? {
                Ok(again) => prop_assert_eq!(again.scenario, loaded.scenario),
                Err(e) => prop_assert!(false, "resolved TOML does not reload: {e}\n{resolved}"),
            }
        }
    }
    Ok(())
}

/// One edit of a scenario text.
#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    ReplaceChar(Index, char),
    InsertLine(Index, String),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let chars: Vec<char> = "\"=[]{}.,-0123456789e\n".chars().collect();
    let key = prop_oneof![
        select(vec![
            "foo",
            "seed",
            "name",
            "duration",
            "sample_interval",
            "mix",
            "clouds",
            "aws",
            "api_delay",
            "create_failure_p",
            "interval",
            "dist",
            "min",
            "max",
            "vms_per_cloud",
            "catalogue",
            "[foo]",
            "[simulation]",
            "[topology]",
            "[[topology.clouds]]",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,8}",
    ];
    let value = select(vec![
        "1",
        "0",
        "-1",
        "1.5",
        "1e400",
        "nan",
        "\"5s\"",
        "\"-5s\"",
        "\"10\"",
        "\"abc\"",
        "\"\"",
        "true",
        "[1, 2]",
        "[]",
        "{}",
        "{ aws = 1 }",
        "\"aws:us-east-1\"",
        "{ dist = \"uniform\", min = \"9s\", max = \"1s\" }",
        "{ dist = \"normal\" }",
        "18446744073709551616",
        "\"99999999999999999999h\"",
    ]);
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), select(chars)).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        (any::<Index>(), key, value).prop_map(|(i, k, v)| {
            let line = if k.starts_with('[') {
                k
            } else {
                format!("{k} = {v}")
            };
            Mutation::InsertLine(i, line)
        }),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    if text.is_empty() {
        // Only an insertion can change an empty text.
        return match m {
            Mutation::InsertLine(_, line) => format!("{line}\n"),
            _ => String::new(),
        };
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let chars: Vec<char> = text.chars().collect();
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine(i) => {
            let at = i.index(lines.len());
            lines.insert(at, lines[at].clone());
        }
        Mutation::InsertLine(i, line) => lines.insert(i.index(lines.len() + 1), line.clone()),
        Mutation::ReplaceChar(i, c) => {
            let mut chars = chars;
            let at = i.index(chars.len());
            chars[at] = *c;
            return chars.into_iter().collect();
        }
        Mutation::Truncate(i) => return chars[..i.index(chars.len() + 1)].iter().collect(),
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// A `--set` argument: a key path of known and random segments, `=`, and a value.
fn set_arg() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => select(vec![
            "simulation", "seed", "name", "duration", "sample_interval", "topology", "mix",
            "aws", "gcp", "nocloud", "clouds", "vms_per_cloud", "catalogue", "lifecycle",
            "api_delay", "dist", "min", "max", "sd", "file", "create_failure_p", "monitoring",
            "interval", "0", "",
        ])
        .prop_map(str::to_string),
        1 => "[a-z_ ]{0,6}",
    ];
    let value = prop_oneof![
        3 => select(vec![
            "1", "-1", "0", "7", "2", "1.5", "-0.5", "1e400", "inf", "nan", "5s", "-5s", "0s",
            "10m", "1h", "10", "\"x\"", "a/b", "true", "[]", "[1, \"a\"]", "{}",
            "{ aws = 2 }", "{ dist = \"uniform\", min = \"1s\", max = \"2s\" }",
            "{ dist = \"empirical\", file = \"nope.csv\" }", "[\"aws:us-east-1\"]",
            "18446744073709551615", "18446744073709551616", "",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,12}",
    ];
    (
        prop::collection::vec(segment, 1..4),
        prop_oneof![9 => Just("="), 1 => Just("")],
        value,
    )
        .prop_map(|(segs, eq, v)| format!("{}{eq}{v}", segs.join(".")))
}

/// Parses `--set` arguments, checking the contract of `Override::parse` on each; returns those
/// that parsed.
fn parse_sets(args: &[String]) -> Result<Vec<Override>, TestCaseError> {
    let mut out = Vec::new();
    for a in args {
        let r = catch_unwind(|| Override::parse(a))
            .map_err(|_| TestCaseError::fail(format!("Override::parse panicked on {a:?}")))?;
        match r {
            Ok(o) => out.push(o),
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("--set "), "{msg}");
            }
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text, &[])?;
    }

    #[test]
    fn toml_like_text_never_panics(text in "[\\[\\]a-z_.=\"0-9 \n{},:-]{0,200}") {
        check(&text, &[])?;
    }

    #[test]
    fn mutated_default_scenario_never_panics(
        mutations in prop::collection::vec(mutation(), 1..5)
    ) {
        let mut text = DEFAULT.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(&text, &[])?;
    }

    #[test]
    fn arbitrary_overrides_never_panic(args in prop::collection::vec(set_arg(), 1..4)) {
        let overrides = parse_sets(&args)?;
        check(DEFAULT, &overrides)?;
    }

    #[test]
    fn overrides_on_mutated_text_never_panic(
        mutations in prop::collection::vec(mutation(), 1..3),
        args in prop::collection::vec(set_arg(), 1..3),
    ) {
        let mut text = DEFAULT.to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        let overrides = parse_sets(&args)?;
        check(&text, &overrides)?;
    }
}

#[test]
fn the_default_scenario_loads() {
    let loaded = load_text(DEFAULT, &[]);
    assert_eq!(loaded.clouds().len(), 100);
}

/// A scenario that is valid except for `simulation.duration`.
fn with_duration(d: &str) -> String {
    format!(
        "[simulation]\nname = \"d\"\nduration = \"{d}\"\nsample_interval = \"1ns\"\n\n[topology]\nmix = {{ aws = 1 }}\n"
    )
}

#[test]
fn compound_duration_overflow_is_an_error_not_a_panic() {
    // Each part is 2^127 ns: fine alone, but the sum overflows u128 (in release it wraps to
    // exactly 10 minutes and is accepted).
    let half = "170141183460469231731687303715884105728ns";
    let text = with_duration(&format!("{half}{half}600s"));
    let r = catch_unwind(|| scenario::from_str(&text, "fuzz.toml", "fuzz", None, &[]));
    let e = r
        .expect("no panic")
        .expect_err("an overflowing duration is refused");
    assert!(e.to_string().contains("too large"), "{e}");
}

#[test]
fn micro_sign_unit_parses() {
    // "5µs" is a valid duration.
    let l = load_text(&with_duration("5µs"), &[]);
    assert_eq!(l.scenario.simulation.duration.as_nanos(), 5_000);
}
