//! The machine side of "know before you run": the memory this machine has available (read
//! here, in the CLI: the library reads no system state) and the gate every command that runs a
//! scenario passes first (`run`, `validate`, `bench`, `sweep`, `serve`, `replay`): a run whose
//! estimate does not fit is refused with exit code 2 before anything is built or written,
//! unless `--no-size-check`.

use super::CliError;
use cloudtwin::scenario::Draft;
use cloudtwin::size::{self, Estimate, Limits};

/// What `--no-size-check` says (appended to every refusal).
pub const OVERRIDE_HINT: &str = "use --no-size-check to run anyway";

/// `MemAvailable` of `/proc/meminfo`, in bytes: `None` when it cannot be read (not Linux, no
/// `/proc`), and then memory is not checked.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

fn parse_mem_available(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let n: f64 = words.next()?.parse().ok()?;
    let unit = match words.next() {
        Some("kB") | None => 1024.0,
        Some(_) => return None,
    };
    Some(n * unit)
}

/// Peak resident memory of this process so far (`VmHWM` of `/proc/self/status`), in bytes;
/// `None` when it cannot be read.
pub fn peak_rss() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// The limits of this machine.
pub fn limits() -> Limits {
    Limits::new(available_memory())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available() {
        let text = "MemTotal:       24582260 kB\nMemFree:  1 kB\nMemAvailable:   23028400 kB\n";
        assert_eq!(parse_mem_available(text), Some(23028400.0 * 1024.0));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: lots\n"), None);
    }
}
