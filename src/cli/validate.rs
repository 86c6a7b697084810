//! `cloudtwin validate SCENARIO`: check a scenario and print it resolved.

use super::{CliError, parse_overrides};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a key, e.g. --set simulation.seed=7 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Also list every resolved cloud.
    #[arg(long)]
    pub clouds: bool,
    /// Build the plans even when the size estimate says a run does not fit this machine.
    #[arg(long)]
    pub no_size_check: bool,
}

pub fn validate(a: ValidateArgs) -> Result<(), CliError> {
    let overrides = parse_overrides(&a.sets)?;
    // A run too big for the machine is refused as `run` would refuse it (its plans alone may
    // not fit).
    let draft = cloudtwin::scenario::read(&a.scenario, &overrides)?;
    let estimate = super::size::gate(&draft, a.no_size_check)?;
    let loaded = draft.build()?;
    out!("{}", loaded.resolved_toml());
    let mut per_provider: BTreeMap<&str, usize> = BTreeMap::new();
    for c in loaded.clouds() {
        *per_provider.entry(c.provider()).or_default() += 1;
    }
    let mix: Vec<String> = per_provider
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    outln!(
        "\n# resolved: {} clouds ({}), {} VMs",
        loaded.clouds().len(),
        mix.join(", "),
        loaded.total_vms()
    );
    if a.clouds {
        for c in loaded.clouds() {
            outln!(
                "#   {:>4} {:<32} {:<20} {:>8.3} {:>9.3} {:>6} VMs",
                c.id,
                c.name(),
                c.region.city,
                c.region.lat,
                c.region.lon,
                c.vms
            );
        }
    }
    // The estimate, as TOML comments (the output stays a loadable scenario).
    outln!("# estimate of a run (see `cloudtwin::size`):");
    for line in cloudtwin::size::describe(&estimate) {
        outln!("#   {line}");
    }
    outln!("# {}: ok", a.scenario.display());
    Ok(())
}
