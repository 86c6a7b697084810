//! The machine a run would use, as the front-ends see it (the CLI's size gate, `bench`, the
//! Python package): the memory available and this process's peak resident memory, read from
//! `/proc`. The simulation never calls these; only the layers that decide whether to start a
//! run, or report what it took, do.

use super::Limits;

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
