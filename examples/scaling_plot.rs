//! Draws the scaling plot (wall time and peak memory against VMs, log-log) from the CSV of
//! `benches/scaling/run.sh`:
//!
//! ```sh
//! cargo run --release --example scaling_plot -- benches/scaling/scaling.csv plots/scaling.svg
//! ```
//!
//! Writes the SVG and the PNG beside it (`plots/scaling.png`). Exit 2 on bad input (arguments,
//! a missing or malformed CSV), 1 when a file cannot be written. The drawing is
//! `cloudtwin::report::scaling`.

use cloudtwin::report::{ReportError, scaling};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [csv, svg] = args.as_slice() else {
        eprintln!("usage: scaling_plot SCALING.CSV OUT.svg");
        return ExitCode::from(2);
    };
    let (csv, svg) = (PathBuf::from(csv), PathBuf::from(svg));
    match scaling::draw(&csv, &svg) {
        Ok(subtitle) => {
            println!(
                "wrote {} and {}",
                svg.display(),
                svg.with_extension("png").display()
            );
            println!("{subtitle}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                ReportError::BadInput(_) => 2,
                ReportError::Io { .. } => 1,
            })
        }
    }
}
