//! The `cloudtwin` command: parses arguments and reports; all work is in the library.
/// Huge pages under the large, randomly touched model state (see `engine::huge_pages`).
#[global_allocator]
static ALLOC: cloudtwin::engine::huge_pages::HugePages = cloudtwin::engine::huge_pages::HugePages;

/// `print!` and `println!` for the command's output, without their panic when standard output
/// is a pipe whose reader has gone (`cloudtwin bench | head`): the rest of the output is
/// dropped and the command finishes its work (a run's results folder is written before it
/// prints). Other write errors are reported once on standard error.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!($($arg)*))
    };
}
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

fn write_out(args: std::fmt::Arguments) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    static REPORTED: AtomicBool = AtomicBool::new(false);
    if let Err(e) = std::io::stdout().write_fmt(args)
        && e.kind() != std::io::ErrorKind::BrokenPipe
        && !REPORTED.swap(true, Ordering::Relaxed)
    {
        eprintln!("warning: cannot write to standard output: {e}");
    }
}

fn main() {
    std::process::exit(cloudtwin_cli::main());
}

#[path = "cli/mod.rs"]
mod cloudtwin_cli;
mod serve;
