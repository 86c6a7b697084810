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
}

pub fn validate(a: ValidateArgs) -> Result<(), CliError> {
    let overrides = parse_overrides(&a.sets)?;
    let loaded = cloudtwin::scenario::load(&a.scenario, &overrides)?;
    print!("{}", loaded.resolved_toml());
    let mut per_provider: BTreeMap<&str, usize> = BTreeMap::new();
    for c in loaded.clouds() {
        *per_provider.entry(c.provider()).or_default() += 1;
    }
    let mix: Vec<String> = per_provider
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    println!(
        "\n# resolved: {} clouds ({}), {} VMs",
        loaded.clouds().len(),
        mix.join(", "),
        loaded.total_vms()
    );
    if a.clouds {
        for c in loaded.clouds() {
            println!(
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
    println!("# {}: ok", a.scenario.display());
    Ok(())
}
