//! Scenario files: reading, overriding, and turning them into checked plans.
//!
//! [`load`] reads a TOML file, applies `--set` overrides and deserializes it into the
//! [`Scenario`] schema (unknown keys are errors listing the valid ones). Then, as ripgrep turns
//! its low-level arguments into a checked high-level form once, each domain builds its plan
//! from its own section: [`Resolved`] (seed, horizon, catalogue, clouds, latency model) first,
//! then the lifecycle, monitoring, control (with the workloads) and CLADNet plans. Every plan
//! check names its key; the loader turns it into a [`ScenarioError`] with the file and line (or
//! the `--set` argument), the key path and what was expected.

pub mod error;
pub mod overrides;
pub mod schema;

pub use error::{Origin, ScenarioError};
pub use overrides::Override;
pub use schema::{Format, OutputSpec, Scenario, SimulationSpec};

use crate::engine::dist::with_base_dir;
use crate::model::{PlanError, Resolved};
use crate::topology::Cloud;
use crate::{cladnet, control, lifecycle, monitoring, twin};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scenario ready to run: the validated schema, the resolved topology, one checked plan per
/// model, and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    /// Seed, horizon, catalogue, clouds and latency model, shared by every plan.
    pub resolved: Resolved,
    /// The VM lifecycle plan (MCIS, VMs, outages, actions, provider profiles). Shared with the
    /// run's lifecycle model, which copies it only if it changes it (see `Lifecycle::new`).
    pub lifecycle: Arc<lifecycle::Plan>,
    /// The monitoring plan (site, paths, agents, collector sizes).
    pub monitoring: monitoring::Plan,
    /// The control plan (policies with their placement, workloads with their curves).
    pub control: control::Plan,
    /// The CLADNet plan (status tests, RTT table, control-plane layouts).
    pub cladnet: cladnet::Plan,
    /// The live twin's plan, when `serve.enabled`.
    pub twin: Option<twin::Plan>,
    /// The file as given (or `<inline>`).
    pub source: String,
    /// SHA-256 of the file's bytes (before overrides), hex.
    pub source_sha256: String,
    pub overrides: Vec<String>,
}

impl Loaded {
    /// The scenario's clouds.
    pub fn clouds(&self) -> &[Cloud] {
        &self.resolved.clouds
    }

    /// VMs the scenario's MCIS requests create.
    pub fn total_vms(&self) -> u64 {
        self.lifecycle.requested_vms()
    }

    /// The resolved scenario as TOML (every default filled in).
    pub fn resolved_toml(&self) -> String {
        toml::to_string_pretty(&self.scenario).expect("scenario serializes")
    }
}

/// Reads and validates a scenario file with overrides applied.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Loaded, ScenarioError> {
    read(path, overrides)?.build()
}

/// Validates scenario text. `origin` names it in errors, `default_name` is used when
/// `simulation.name` is not given, `base_dir` resolves relative file references.
pub fn from_str(
    text: &str,
    origin: &str,
    default_name: &str,
    base_dir: Option<&Path>,
    overrides: &[Override],
) -> Result<Loaded, ScenarioError> {
    draft(text, origin, default_name, base_dir, overrides)?.build()
}

/// A scenario read into the schema (overrides applied, `[simulation]` checked) whose plans are
/// not built yet: the first half of [`load`]. Its counts (clouds, VMs, intervals) are known
/// before anything large is allocated, so the size estimate ([`crate::size`]) can refuse a run
/// too big for the machine here, before building the plans would exhaust the memory.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The scenario as read, every default filled in.
    pub scenario: Scenario,
    text: String,
    origin: String,
    base_dir: Option<PathBuf>,
    overrides: Vec<Override>,
}

/// Reads a scenario file into a [`Draft`] with overrides applied.
pub fn read(path: &Path, overrides: &[Override]) -> Result<Draft, ScenarioError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ScenarioError::file(&shown, "", format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ScenarioError::file(&shown, "", "the file is not valid UTF-8"))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let base = path.parent().map(Path::to_path_buf);
    draft(&text, &shown, &stem, base.as_deref(), overrides)
}

/// Reads scenario text into a [`Draft`] (arguments as [`from_str`]).
pub fn draft(
    text: &str,
    origin: &str,
    default_name: &str,
    base_dir: Option<&Path>,
    overrides: &[Override],
) -> Result<Draft, ScenarioError> {
    let locate = Locator {
        origin,
        text,
        overrides,
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        locate.at_span(
            "",
            format!("TOML syntax error: {}", e.message().trim_end()),
            e.span(),
        )
    })?;
    for o in overrides {
        o.apply(&mut doc)?;
    }
    let merged = doc.to_string();
    let mut scenario: Scenario = with_base_dir(base_dir.map(Path::to_path_buf), || {
        let de = toml::Deserializer::parse(&merged).map_err(|e| (String::new(), e))?;
        serde_path_to_error::deserialize(de).map_err(|e| (e.path().to_string(), e.into_inner()))
    })
    .map_err(|(key, e)| {
        let key = if key == "." { String::new() } else { key };
        let span = if overrides.is_empty() { e.span() } else { None };
        locate.at_span(&key, e.message().trim_end().to_string(), span)
    })?;
    check_simulation(&mut scenario.simulation, default_name).map_err(|e| locate.plan(e))?;
    check_output(&scenario.output).map_err(|e| locate.plan(e))?;
    Ok(Draft {
        scenario,
        text: text.to_string(),
        origin: origin.to_string(),
        base_dir: base_dir.map(Path::to_path_buf),
        overrides: overrides.to_vec(),
    })
}

impl Draft {
    /// SHA-256 of the scenario text (before overrides), hex.
    pub fn source_sha256(&self) -> String {
        sha256_hex(self.text.as_bytes())
    }

    /// Where the scenario came from (the file as given, or `<inline>`), as errors name it.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The `--set` argument that set `key` (or one of its parents), if any: a size refusal
    /// names it as a plan error would.
    pub fn override_of(&self, key: &str) -> Option<&str> {
        let path = split_path(key);
        self.overrides
            .iter()
            .rev()
            .find(|o| !path.is_empty() && path.starts_with(&o.path))
            .map(|o| o.arg.as_str())
    }

    /// Builds every model's checked plan: the second half of [`load`].
    pub fn build(self) -> Result<Loaded, ScenarioError> {
        let locate = Locator {
            origin: &self.origin,
            text: &self.text,
            overrides: &self.overrides,
        };
        let scenario = self.scenario.clone();
        let base_dir = self.base_dir.as_deref();
        // Each domain's plan from its own section, in the order of dependence.
        let at = |e: PlanError| locate.plan(e);
        let sc = &scenario;
        // A live twin may start with no clouds: they join as clients register connections.
        let resolved = Resolved::build(
            &sc.simulation,
            &sc.topology,
            &sc.network,
            base_dir,
            sc.serve.enabled,
        )
        .map_err(at)?;
        let lifecycle = lifecycle::Plan::build(
            lifecycle::plan::Spec {
                lifecycle: &sc.lifecycle,
                mcis: &sc.mcis,
                actions: &sc.actions,
                log_vm_events: sc.output.vm_events,
                api_mcis: sc
                    .serve
                    .enabled
                    .then_some((sc.serve.mcis.as_str(), sc.serve.max_vms)),
            },
            &resolved,
            &|mcis, requested| control::plan::spare_slots(&sc.control, mcis, requested),
        )
        .map_err(at)?;
        let monitoring = monitoring::Plan::build(
            &sc.monitoring,
            &resolved,
            lifecycle.vms.iter().map(|v| (v.cloud, v.spare)),
        )
        .map_err(at)?;
        check_entities(&lifecycle, &monitoring).map_err(at)?;
        if sc.serve.enabled && monitoring.sites.len() > 1 {
            // A live twin's clouds join as clients register them, after the sites are sized.
            return Err(at(PlanError::new(
                "monitoring.site",
                format!(
                    "{} sites: a live twin (serve) runs one monitoring site; give one region",
                    monitoring.sites.len()
                ),
            )));
        }
        let mcis_names: Vec<String> = lifecycle.mcis.iter().map(|m| m.name.clone()).collect();
        let control = control::Plan::build(
            &sc.control,
            &sc.workload,
            &resolved,
            &mcis_names,
            lifecycle.vms.len(),
        )
        .map_err(at)?;
        let cladnet = cladnet::Plan::build(&sc.cladnet, &sc.network, &resolved, &lifecycle.outages)
            .map_err(at)?;
        let twin = twin::Plan::build(&sc.serve, &resolved, &lifecycle).map_err(at)?;
        Ok(Loaded {
            scenario,
            resolved,
            lifecycle: Arc::new(lifecycle),
            monitoring,
            control,
            cladnet,
            twin,
            source: self.origin.clone(),
            source_sha256: self.source_sha256(),
            overrides: self.overrides.iter().map(|o| o.arg.clone()).collect(),
        })
    }
}

/// Most collectors a scenario may run (a Dragonfly deployment runs a handful; more than this
/// is a typo, and each costs memory before the run starts).
pub const MAX_COLLECTORS: u32 = 1 << 24;

/// Every VM, agent, collector and control entity of the run has a 32-bit entity id: refuses a
/// scenario whose entities would not fit (before the models allocate them).
fn check_entities(lc: &lifecycle::Plan, mon: &monitoring::Plan) -> Result<(), PlanError> {
    if mon.max_collectors > MAX_COLLECTORS {
        let key = match mon.spec.collectors.policy {
            crate::monitoring::config::Policy::Fixed => "monitoring.collectors.count",
            _ => "monitoring.collectors.max_host_count",
        };
        return Err(PlanError::new(
            key,
            format!(
                "{} collectors: at most {MAX_COLLECTORS} are supported",
                mon.max_collectors
            ),
        ));
    }
    // The sampler, the models' own entities and the CLADNet, control and twin entities: a few.
    let entities = 16
        + lc.vms.len() as u64
        + lc.mcis.len() as u64
        + lc.actions.len() as u64
        + lc.outages.len() as u64
        + mon.agents.len() as u64
        + mon.max_collectors as u64;
    if entities > u32::MAX as u64 {
        return Err(PlanError::new(
            "topology.vms_per_cloud",
            format!(
                "the run would have {entities} simulation entities (VMs, agents, collectors, \
                 outages): at most {} fit in 32-bit ids",
                u32::MAX
            ),
        ));
    }
    Ok(())
}

/// `[simulation]`: a usable name (the file's by default), a horizon, a sample step.
fn check_simulation(sim: &mut SimulationSpec, default_name: &str) -> Result<(), PlanError> {
    if sim.name.is_empty() {
        sim.name = default_name.to_string();
    }
    if sim.name.is_empty()
        || !sim
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(PlanError::new(
            "simulation.name",
            format!(
                "\"{}\" is not usable as a folder name: use letters, digits, '-', '_' or '.'",
                sim.name
            ),
        ));
    }
    crate::model::positive("simulation.duration", sim.duration)?;
    crate::model::positive("simulation.sample_interval", sim.sample_interval)?;
    if sim.sample_interval > sim.duration {
        return Err(PlanError::new(
            "simulation.sample_interval",
            format!(
                "{} is longer than simulation.duration ({})",
                sim.sample_interval, sim.duration
            ),
        ));
    }
    Ok(())
}

/// `[output]`: at least one table format, each once.
fn check_output(out: &OutputSpec) -> Result<(), PlanError> {
    if out.formats.is_empty() {
        return Err(PlanError::new(
            "output.formats",
            "is empty: list at least one of \"csv\", \"parquet\"",
        ));
    }
    for (i, f) in out.formats.iter().enumerate() {
        if out.formats[..i].contains(f) {
            return Err(PlanError::new(
                "output.formats",
                format!("lists \"{}\" twice: list each format once", f.name()),
            ));
        }
    }
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Turns a key path or a byte span into a file line, or into the `--set` that set the key.
struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
    overrides: &'a [Override],
}

impl Locator<'_> {
    /// A plan's error, located at its key.
    fn plan(&self, e: PlanError) -> ScenarioError {
        self.at_span(&e.key, e.message, None)
    }

    fn at_span(
        &self,
        key: &str,
        message: String,
        span: Option<std::ops::Range<usize>>,
    ) -> ScenarioError {
        // The last override whose key is the error's key or one of its parents set the value.
        // Failing that, when the file does not hold the key, the last override below it:
        // the --set that created the table the error is about
        // (`--set lifecycle.providers.nosuch.api_rate=1` for `lifecycle.providers.nosuch`).
        let path = split_path(key);
        let set_it = |o: &&Override| !path.is_empty() && path.starts_with(&o.path);
        let created_it = |o: &&Override| !path.is_empty() && o.path.starts_with(&path);
        if let Some(o) = self.overrides.iter().rev().find(set_it).or_else(|| {
            self.overrides
                .iter()
                .rev()
                .find(created_it)
                .filter(|_| !key_in_text(self.text, &path).1)
        }) {
            return ScenarioError {
                origin: Origin::Override(o.arg.clone()),
                key: key.to_string(),
                message,
            };
        }
        let offset = span
            .map(|s| s.start)
            .or_else(|| key_in_text(self.text, &path).0);
        let (line, column) = match offset {
            Some(off) => {
                let (l, c) = error::line_col(self.text, off);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ScenarioError {
            origin: Origin::File {
                path: self.origin.to_string(),
                line,
                column,
            },
            key: key.to_string(),
            message,
        }
    }
}

/// `topology.clouds[3].region` -> ["topology", "clouds", "3", "region"].
fn split_path(key: &str) -> Vec<String> {
    key.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where the original text holds `path`: the byte offset of the deepest part of it present
/// (from the parsed document's spans), and whether the text holds all of it. Within an array
/// (of tables) the element is as deep as this looks: what it holds below is the file's.
fn key_in_text(text: &str, path: &[String]) -> (Option<usize>, bool) {
    let Ok(doc) = toml_edit::Document::parse(text) else {
        return (None, false);
    };
    let mut item = doc.as_item();
    let mut best = None;
    for seg in path {
        if let Some(t) = item.as_table_like() {
            let Some((k, v)) = t.get_key_value(seg) else {
                return (best, false);
            };
            best = k.span().or_else(|| v.span()).map(|s| s.start).or(best);
            item = v;
            continue;
        }
        let element = seg.parse::<usize>().ok().and_then(|i| {
            match (item.as_array(), item.as_array_of_tables()) {
                (Some(arr), _) => arr.get(i).map(|v| v.span()),
                (_, Some(arr)) => arr.get(i).map(|t| t.span()),
                _ => None,
            }
        });
        return match element {
            Some(span) => (span.map(|s| s.start).or(best), true),
            None => (best, false),
        };
    }
    (best, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[simulation]
name = "t"
seed = 3
duration = "10m"

[topology]
vms_per_cloud = 2
mix = { aws = 2 }
"#;

    fn load_str(text: &str, sets: &[&str]) -> Result<Loaded, ScenarioError> {
        let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        from_str(text, "s.toml", "s", None, &o)
    }

    #[test]
    fn loads_with_defaults() {
        let l = load_str(GOOD, &[]).unwrap();
        assert_eq!(l.scenario.simulation.seed, 3);
        assert_eq!(l.scenario.simulation.sample_interval.to_string(), "10s");
        assert_eq!(l.clouds().len(), 2);
        assert_eq!(l.total_vms(), 4);
        let l2 = from_str(&l.resolved_toml(), "r.toml", "x", None, &[]).unwrap();
        assert_eq!(
            l2.scenario, l.scenario,
            "resolved TOML reloads to the same scenario"
        );
    }

    #[test]
    fn unknown_key_names_file_line_key_and_valid_keys() {
        let e = load_str(&GOOD.replace("seed = 3", "sedd = 3"), &[]).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.key, "simulation.sedd");
        assert!(
            msg.starts_with("s.toml:4:1: key `simulation.sedd`"),
            "{msg}"
        );
        assert!(
            msg.contains("`seed`") && msg.contains("`duration`"),
            "{msg}"
        );
    }

    #[test]
    fn overrides_apply_and_errors_point_at_them() {
        let l = load_str(GOOD, &["simulation.seed=9", "topology.mix.gcp=1"]).unwrap();
        assert_eq!(l.scenario.simulation.seed, 9);
        assert_eq!(l.clouds().len(), 3);
        let e = load_str(GOOD, &["simulation.duration=-5s"]).unwrap_err();
        assert_eq!(e.origin, Origin::Override("simulation.duration=-5s".into()));
        assert!(e.to_string().contains("negative"), "{e}");
        let e = load_str(GOOD, &["simulation.sed=1"]).unwrap_err();
        assert_eq!(e.key, "simulation.sed");
    }

    #[test]
    fn semantic_errors_find_their_line() {
        let e = load_str(
            &GOOD.replace(
                "duration = \"10m\"",
                "duration = \"10m\"\nsample_interval = \"1h\"",
            ),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.key, "simulation.sample_interval");
        assert!(e.to_string().starts_with("s.toml:6:"), "{e}");
        let e = load_str(&GOOD.replace("aws = 2", "aws = 2, xyz = 1"), &[]).unwrap_err();
        assert_eq!(e.key, "topology.mix.xyz");
        assert!(e.to_string().starts_with("s.toml:9:"), "{e}");
    }

    /// A provider key resolved from layers is blamed on the layer that set it: the line of
    /// `[lifecycle]`'s key even when the provider has a table of its own, the provider's
    /// table when it sets the key, and the `--set` that gave it.
    #[test]
    fn a_layered_provider_key_is_blamed_where_it_was_set() {
        let text = GOOD.to_string()
            + "\n[lifecycle]\napi_rate = -5.0\n\n[lifecycle.providers.aws]\napi_burst = 3\n";
        let e = load_str(&text, &[]).unwrap_err();
        assert_eq!(e.key, "lifecycle.api_rate");
        assert!(e.to_string().starts_with("s.toml:12:1: "), "{e}");
        assert!(e.to_string().contains("found -5"), "{e}");

        let e = load_str(&text.replace("api_burst = 3", "api_rate = -2.0"), &[]).unwrap_err();
        assert_eq!(e.key, "lifecycle.providers.aws.api_rate");
        assert!(e.to_string().starts_with("s.toml:15:1: "), "{e}");

        let e = load_str(GOOD, &["lifecycle.providers.aws.api_rate=-1"]).unwrap_err();
        assert_eq!(e.key, "lifecycle.providers.aws.api_rate");
        assert_eq!(
            e.origin,
            Origin::Override("lifecycle.providers.aws.api_rate=-1".into())
        );
    }

    /// An error about a table the file does not have is blamed on the `--set` that created
    /// it; one about a table the file has stays at the file's line.
    #[test]
    fn a_table_created_by_a_set_is_blamed_on_it() {
        let set = "lifecycle.providers.nosuch.api_rate=1";
        let e = load_str(GOOD, &[set]).unwrap_err();
        assert_eq!(e.key, "lifecycle.providers.nosuch");
        assert_eq!(e.origin, Origin::Override(set.into()));
        assert!(e.to_string().contains("unknown provider `nosuch`"), "{e}");

        let text = GOOD.to_string() + "\n[lifecycle.providers.nosuch]\napi_rate = 1.0\n";
        let e = load_str(&text, &["lifecycle.providers.nosuch.api_burst=2"]).unwrap_err();
        assert_eq!(e.key, "lifecycle.providers.nosuch");
        assert!(e.to_string().starts_with("s.toml:11:"), "{e}");
    }

    #[test]
    fn path_splitting() {
        assert_eq!(split_path("a.b[3].c"), ["a", "b", "3", "c"]);
        assert!(split_path("").is_empty());
    }
}
