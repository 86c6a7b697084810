//! What fresh memory costs on this machine: maps `GB` gigabytes of anonymous memory, touches
//! one byte per 4 KiB page, unmaps it, and does the same again at once; prints both times.
//! With `huge` the mapping asks for 2 MiB pages (`madvise(MADV_HUGEPAGE)`, as the binary's
//! allocator does under large allocations and under glibc's main heap as it grows, see
//! `engine::huge_pages`).
//!
//! On bare metal both passes take well under a second per gigabyte (the kernel zeroes the
//! pages). On a virtual machine whose host backs guest memory lazily and takes back what the
//! guest frees, the first pass can cost many seconds per gigabyte and the second (the pages
//! just freed, not yet given back) little: that difference is a cost of the machine that a
//! ten-million-VM run pays for every gigabyte it touches (BENCHMARKS.md, issue 15, third step).
//!
//! ```sh
//! cargo run --release --example first_touch -- 4 huge
//! cargo run --release --example first_touch -- 4
//! ```

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let gb: usize = match args.next().map(|a| a.parse()) {
        Some(Ok(g)) if g > 0 => g,
        _ => {
            eprintln!("usage: first_touch GB [huge]");
            std::process::exit(2);
        }
    };
    let huge = args.next().as_deref() == Some("huge");
    for pass in ["first", "again"] {
        match touch(gb << 30, huge) {
            Ok(s) => println!(
                "{pass} touch of {gb} GB ({} pages): {s:.2} s, {:.2} s per GB",
                if huge { "2 MiB" } else { "4 KiB" },
                s / gb as f64
            ),
            Err(e) => {
                eprintln!("first_touch: {e}");
                std::process::exit(1);
            }
        }
    }
}

/// Maps `len` bytes, touches every 4 KiB page, unmaps; the seconds it took.
#[cfg(target_os = "linux")]
fn touch(len: usize, huge: bool) -> Result<f64, String> {
    let t = Instant::now();
    // SAFETY: a fresh private anonymous mapping; every access below stays inside it, and it
    // is unmapped before returning.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return Err(format!("mmap of {len} bytes failed"));
        }
        if huge {
            libc::madvise(p, len, libc::MADV_HUGEPAGE);
        }
        let base = p as *mut u8;
        for off in (0..len).step_by(4096) {
            base.add(off).write_volatile(1);
        }
        libc::munmap(p, len);
    }
    Ok(t.elapsed().as_secs_f64())
}

#[cfg(not(target_os = "linux"))]
fn touch(_len: usize, _huge: bool) -> Result<f64, String> {
    Err("Linux only".into())
}
