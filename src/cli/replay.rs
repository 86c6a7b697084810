//! `cloudtwin replay DIR`: re-runs a served session from its journal in batch mode (no pacing,
//! no sockets) and writes a results folder whose CSV tables equal the session's byte for byte.

use super::CliError;
use clap::Args;
use cloudtwin::output::names::file;
use cloudtwin::twin::Session;
use cloudtwin::twin::journal::Journal;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Results folder of a served session (with `api_journal.jsonl`).
    pub dir: PathBuf,
    /// Results folder of the replay (default: DIR-replay).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the replay's folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replay even when the size estimate says the run does not fit this machine.
    #[arg(long)]
    pub no_size_check: bool,
}

fn read(dir: &Path, name: &str) -> Result<String, CliError> {
    let p = dir.join(name);
    std::fs::read_to_string(&p).map_err(|e| {
        CliError::bad_input(format!(
            "{}: {e} ({} is not a served session's results folder)",
            p.display(),
            dir.display()
        ))
    })
}

pub fn replay(a: ReplayArgs) -> Result<(), CliError> {
    let journal_text = read(&a.dir, file::API_JOURNAL)?;
    let journal = Journal::parse(&journal_text).map_err(|e| {
        CliError::bad_input(format!("{}: {e}", a.dir.join(file::API_JOURNAL).display()))
    })?;
    let end = journal.end.ok_or_else(|| {
        CliError::bad_input(format!(
            "{}: the journal has no end line (the session did not stop cleanly)",
            a.dir.join(file::API_JOURNAL).display()
        ))
    })?;
    // The session's resolved scenario; files it names are read beside the original scenario.
    let scenario = read(&a.dir, file::SCENARIO)?;
    let manifest: serde_json::Value = serde_json::from_str(&read(&a.dir, file::MANIFEST)?)
        .map_err(|e| {
            CliError::bad_input(format!("{}: {e}", a.dir.join(file::MANIFEST).display()))
        })?;
    let base = manifest["scenario_file"]
        .as_str()
        .map(Path::new)
        .and_then(Path::parent)
        .filter(|p| p.is_dir())
        .map(Path::to_path_buf);
    let origin = a.dir.join(file::SCENARIO).display().to_string();
    let draft = cloudtwin::scenario::draft(&scenario, &origin, "replay", base.as_deref(), &[])?;
    super::size::gate(&draft, a.no_size_check)?;
    let loaded = draft.build()?;
    let target = a.out.clone().unwrap_or_else(|| {
        let mut s = a.dir.as_os_str().to_owned();
        s.push("-replay");
        PathBuf::from(s)
    });
    let dir = super::results_dir(&target, a.force)?;
    let started = Instant::now();
    let mut session = Session::new(loaded.clone()).map_err(CliError::bad_input)?;
    let mut lines = vec![
        cloudtwin::twin::journal::Line::Start {
            version: cloudtwin::twin::journal::VERSION,
            epoch_s: journal.epoch_s,
            speed: journal.speed,
        }
        .to_json_line(),
    ];
    let mut answers = Vec::new();
    for (id, at, req) in &journal.requests {
        let (got, at2) = session.submit(*at, req.clone());
        if got != *id || at2 != *at {
            return Err(CliError::failure(format!(
                "request {id} was submitted as {got} at {at2} (journal: {at})"
            )));
        }
        lines.push(cloudtwin::twin::journal::Line::request(got, at2, req.clone()).to_json_line());
        answers.extend(session.take_answers());
    }
    let (out, last) = session.finish(end);
    answers.extend(last);
    // The same answers, in status, as the session gave.
    let mut want: Vec<(u64, u16)> = journal.answers.iter().map(|(i, _, s)| (*i, *s)).collect();
    let mut got: Vec<(u64, u16)> = answers.iter().map(|a| (a.id, a.status)).collect();
    want.sort_unstable();
    got.sort_unstable();
    if want != got {
        return Err(CliError::failure(format!(
            "the replay's answers differ from the journal's ({} vs {} answers)",
            got.len(),
            want.len()
        )));
    }
    let wall = started.elapsed().as_secs_f64();
    // The replay's own journal, rebuilt: requests in order, then answers, then the end.
    for a in &answers {
        lines.push(
            cloudtwin::twin::journal::Line::Answer {
                id: a.id,
                t_ns: a.at.as_nanos(),
                status: a.status,
            }
            .to_json_line(),
        );
    }
    lines.push(
        cloudtwin::twin::journal::Line::End {
            t_ns: end.as_nanos(),
        }
        .to_json_line(),
    );
    dir.write(file::API_JOURNAL, lines.concat().as_bytes())
        .map_err(CliError::failure)?;
    let path =
        cloudtwin::run::write_results(&loaded, &out, dir, wall).map_err(CliError::failure)?;
    if !a.quiet {
        outln!(
            "replayed {} requests to {:.1} s simulated in {wall:.2} s: answers agree with the journal",
            journal.requests.len(),
            end.as_secs_f64()
        );
        outln!("results: {}", path.display());
    }
    Ok(())
}
