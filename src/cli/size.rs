//! The machine side of "know before you run": the memory this machine has available
//! (`cloudtwin::size::machine`, which only front-ends call) and the gate every command that runs a
//! scenario passes first (`run`, `validate`, `bench`, `sweep`, `serve`, `replay`): a run whose
//! estimate does not fit is refused with exit code 2 before anything is built or written,
//! unless `--no-size-check`.

use super::CliError;
use cloudtwin::scenario::Draft;
use cloudtwin::size::{self, Estimate};

/// What `--no-size-check` says (appended to every refusal).
pub const OVERRIDE_HINT: &str = "use --no-size-check to run anyway";

pub use cloudtwin::size::machine::{available_memory, limits, peak_rss};

/// Estimates the draft's run and, unless `skip`, refuses it (exit 2, naming the scenario) when
/// it does not fit this machine.
pub fn gate(draft: &Draft, skip: bool) -> Result<Estimate, CliError> {
    if skip {
        return Ok(size::estimate(&draft.scenario));
    }
    size::check(&draft.scenario, &limits()).map_err(|r| refused(draft.origin(), &r))
}

/// The error of a refused run of the scenario `origin`.
pub fn refused(origin: &str, r: &size::Refusal) -> CliError {
    CliError::bad_input(format!("{origin}: {r} ({OVERRIDE_HINT})"))
}
