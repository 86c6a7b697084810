//! The binary's allocator (`engine::huge_pages::HugePages`) asks Linux for 2 MiB pages under
//! glibc's main heap as it grows, under the heaps of the arenas other threads allocate from,
//! and under large allocations. This test installs it as its own global allocator, allocates,
//! and reads the advice back from `/proc/self/smaps` (the `hg` flag of a mapping that asked
//! for huge pages).
//!
//! It runs without libtest's harness (`harness = false` in Cargo.toml) so that the blocks it
//! allocates on the main thread come from the main heap: libtest runs tests on threads of
//! their own, which glibc serves from arenas of their own, as it does the thread this test
//! spawns. Whether the kernel then
//! backs the memory with huge pages depends on the machine (free 2 MiB pages, its THP policy),
//! so only the advice is checked; the huge pages found are printed.

use cloudtwin::engine::huge_pages::{HugePages, THRESHOLD};

#[global_allocator]
static ALLOC: HugePages = HugePages;

/// One mapping of `/proc/self/smaps`.
struct Mapping {
    start: usize,
    end: usize,
    name: String,
    huge_advised: bool,
    anon_huge_kb: u64,
}

fn mappings() -> Vec<Mapping> {
    let text = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            // A mapping's header: range, perms, offset, device, inode, then its name if any.
            let name = words.nth(4).unwrap_or("").to_string();
            out.push(Mapping {
                start,
                end,
                name,
                huge_advised: false,
                anon_huge_kb: 0,
            });
        } else if let Some(m) = out.last_mut() {
            match first {
                "VmFlags:" => m.huge_advised = words.any(|f| f == "hg"),
                "AnonHugePages:" => {
                    m.anon_huge_kb = words.next().and_then(|k| k.parse().ok()).unwrap_or(0)
                }
                _ => {}
            }
        }
    }
    out
}

fn mapping_of(maps: &[Mapping], addr: usize) -> &Mapping {
    maps.iter()
        .find(|m| m.start <= addr && addr < m.end)
        .unwrap_or_else(|| panic!("no mapping holds {addr:#x}"))
}

fn main() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        println!("huge_pages: skipped (the heaps' advice is for Linux with glibc)");
        return;
    }
    if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
        println!("huge_pages: skipped (this kernel has no transparent huge pages)");
        return;
    }
    const MIB: usize = 1 << 20;

    // The main heap grows: 96 blocks of 1 MiB, far below glibc's mmap threshold.
    let blocks: Vec<Vec<u8>> = (0..96u8).map(|i| vec![i; MIB]).collect();
    // A large allocation (above the mmap threshold, so a mapping of its own).
    let big = vec![7u8; 40 * MIB];
    assert!(big.len() >= THRESHOLD);

    let maps = mappings();
    // Every block lies in the heap, in memory advised before it was written: the heap's
    // growth is advised a whole 2 MiB page at a time, so only a block sharing the page where
    // the heap stood at the allocator's first call could lie below it. Blocks are allocated
    // long after that call (the runtime allocates before `main`), past the first 64 MiB step.
    let unadvised: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            let m = mapping_of(&maps, b.as_ptr() as usize + b.len() / 2);
            assert_eq!(
                m.name,
                "[heap]",
                "block at {:p} is not in the main heap",
                b.as_ptr()
            );
            !m.huge_advised
        })
        .map(|(i, _)| i)
        .collect();
    assert!(
        unadvised.len() <= 2,
        "blocks of the main heap without the huge-page advice: {unadvised:?} of 96"
    );
    let heap_advised: usize = maps
        .iter()
        .filter(|m| m.name == "[heap]" && m.huge_advised)
        .map(|m| m.end - m.start)
        .sum();
    assert!(
        heap_advised >= 90 * MIB,
        "only {} MiB of the main heap advised",
        heap_advised / MIB
    );

    // Another thread's blocks come from its arena's heap, advised whole when first used: the
    // advice covers what glibc makes writable as the heap grows (96 MiB fill one 64 MiB heap
    // and part of a second).
    let (spots, arena_blocks) = std::thread::spawn(|| {
        let blocks: Vec<Vec<u8>> = (0..96u8).map(|i| vec![i ^ 0x5a; MIB]).collect();
        let maps = mappings();
        let spots: Vec<(bool, String)> = blocks
            .iter()
            .map(|b| {
                let m = mapping_of(&maps, b.as_ptr() as usize + b.len() / 2);
                (m.huge_advised, m.name.clone())
            })
            .collect();
        (spots, blocks)
    })
    .join()
    .expect("the allocating thread");
    let unadvised: Vec<usize> = (0..spots.len()).filter(|&i| !spots[i].0).collect();
    assert!(
        spots.iter().all(|(_, name)| name.is_empty()),
        "another thread's blocks should lie in anonymous mappings (an arena's heaps), not the main heap"
    );
    assert!(
        unadvised.is_empty(),
        "blocks of another thread's arena without the huge-page advice: {unadvised:?} of 96"
    );

    // The large allocation's whole 2 MiB pages are advised.
    let first_whole = (big.as_ptr() as usize).next_multiple_of(2 * MIB);
    let m = mapping_of(&maps, first_whole);
    assert!(
        m.huge_advised,
        "the 40 MiB allocation's mapping has no huge-page advice"
    );

    // The advice never changes contents.
    for (i, b) in blocks.iter().enumerate() {
        assert!(b.iter().all(|&x| x == i as u8), "block {i} changed");
    }
    assert!(big.iter().all(|&x| x == 7), "the large allocation changed");
    for (i, b) in arena_blocks.iter().enumerate() {
        assert!(
            b.iter().all(|&x| x == i as u8 ^ 0x5a),
            "block {i} of the other thread changed"
        );
    }

    let huge_kb: u64 = maps
        .iter()
        .filter(|m| m.huge_advised)
        .map(|m| m.anon_huge_kb)
        .sum();
    println!(
        "huge_pages: ok: {} MiB of the main heap, another thread's 96 MiB and the 40 MiB allocation advised; {} MiB in huge pages",
        heap_advised / MIB,
        huge_kb / 1024
    );
}
