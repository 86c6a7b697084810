//! The `cloudtwin` command: parses arguments and reports; all work is in the library.
fn main() {
    std::process::exit(cloudtwin_cli::main());
}

#[path = "cli/mod.rs"]
mod cloudtwin_cli;
mod serve;
