//! `cloudtwin merge DIR... [--out DIR]`: combine the folders of a sharded sweep (see
//! `cloudtwin::batch::merge`).

use super::CliError;
use clap::Args;
use cloudtwin::batch::BatchError;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Sweep folders written by `cloudtwin sweep --shard ...` (one or more).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Merged sweep folder (default: results/<name>-sweep; may be one of the DIRs).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn merge(a: MergeArgs) -> Result<(), CliError> {
    let r = cloudtwin::batch::merge::merge(&a.dirs, a.out.as_deref()).map_err(|e| match e {
        BatchError::BadInput(m) => CliError::bad_input(m),
        BatchError::Failure(m) => CliError::failure(m),
    })?;
    for u in &r.unknown {
        eprintln!("warning: {u} is not a run of this sweep (left out)");
    }
    if !a.quiet {
        outln!(
            "merged {} runs from {} folder(s) ({} copied)",
            r.runs,
            a.dirs.len(),
            r.copied
        );
        outln!(
            "  {}",
            r.dir
                .join(cloudtwin::output::names::file::SWEEP_SUMMARY)
                .display()
        );
        outln!("results: {}", r.dir.display());
    }
    Ok(())
}
