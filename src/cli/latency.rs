use super::CliError;
use clap::Args;

#[derive(Args, Debug)]
pub struct LatencyArgs {}

pub fn latency(_a: LatencyArgs) -> Result<(), CliError> {
    Ok(())
}
