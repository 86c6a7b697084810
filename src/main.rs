//! The `cloudtwin` command: parses arguments and reports; all work is in the library.
/// Huge pages under the large, randomly touched model state (see `engine::huge_pages`).
#[global_allocator]
static ALLOC: cloudtwin::engine::huge_pages::HugePages = cloudtwin::engine::huge_pages::HugePages;

fn main() {
    std::process::exit(cloudtwin_cli::main());
}

#[path = "cli/mod.rs"]
mod cloudtwin_cli;
mod serve;
