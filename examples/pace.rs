//! Wall time per step of simulated time: where a long run spends its wall time. One line per
//! `STEP` (default 1 minute): the simulated time the step starts at, its wall seconds, its
//! engine events, the nanoseconds per event, and how long in the step the engine's thread waited
//! for the collecting side (`eng_wait_s`) and the collecting side for it (`col_wait_s`): the one
//! that waited less set the step's pace, and a step where both wait little has both threads
//! saturated (a change to one thread's work then shows in neither wall time). Whether a large
//! run slows down as it goes (a structure that grows with simulated time) or only when the
//! machine does: run it twice and see whether the slow steps come back at the same minutes.
//!
//! ```sh
//! cargo run --release --example pace -- scenarios/bench/scale-1m.toml 2m
//! cargo run --release --example pace -- scenarios/bench/scale-10m.toml 1m simulation.duration=10m
//! ```
//!
//! The figures are the binary's: the same huge-page allocator, two threads where the machine
//! has two cores. The library reads no clock; the wall time is read here, in the observer,
//! and lent to the run to time how long its two threads waited for each other (the last
//! line: the one that waited less set the pace).

use cloudtwin::engine::{Progress, RunControl, SimDuration};
use cloudtwin::run::{RunOptions, simulate_opts};
use cloudtwin::scenario::{Override, load};
use std::cell::Cell;
use std::process::exit;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Huge pages under the large model state, as in the `cloudtwin` binary.
#[global_allocator]
static ALLOC: cloudtwin::engine::huge_pages::HugePages = cloudtwin::engine::huge_pages::HugePages;

/// Events between two looks at the clock (about a millisecond of a large run).
const CHECK_EVERY: u64 = 1 << 14;

/// The clock lent to the run: the time since its first reading. The run reads it where one of
/// its threads starts waiting for the other and where the wait ends, on that thread; so the
/// readings pair up per thread, and each pair's time is added to the thread's total here,
/// for the step lines.
fn monotonic() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    let now = START.get_or_init(Instant::now).elapsed();
    WAIT_STARTED.with(|started| match started.take() {
        None => started.set(Some(now)),
        Some(at) => {
            let total = if std::thread::current().name() == Some("main") {
                &ENGINE_WAITED_NS
            } else {
                &COLLECTING_WAITED_NS
            };
            total.fetch_add(now.saturating_sub(at).as_nanos() as u64, Relaxed);
        }
    });
    now
}

thread_local! {
    /// Where this thread's current wait started.
    static WAIT_STARTED: Cell<Option<Duration>> = const { Cell::new(None) };
}
/// How long the engine's thread (this one) and the collecting side have waited so far.
static ENGINE_WAITED_NS: AtomicU64 = AtomicU64::new(0);
static COLLECTING_WAITED_NS: AtomicU64 = AtomicU64::new(0);

fn fail(message: String) -> ! {
    eprintln!("pace: {message}");
    exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        fail("usage: pace SCENARIO [STEP] [KEY=VALUE ...]".into())
    };
    let step = match args.next() {
        Some(s) => match SimDuration::parse(&s) {
            Ok(d) if d.as_nanos() > 0 => d,
            _ => fail(format!(
                "STEP {s:?}: expected a duration above zero, such as 1m"
            )),
        },
        None => SimDuration::from_secs(60),
    };
    let overrides: Vec<Override> = args
        .map(|a| Override::parse(&a).unwrap_or_else(|e| fail(e.to_string())))
        .collect();
    let started = Instant::now();
    let loaded = load(path.as_ref(), &overrides).unwrap_or_else(|e| fail(e.to_string()));
    println!("loaded in {:.2} s", started.elapsed().as_secs_f64());
    println!(
        "{:>9} {:>10} {:>12} {:>9} {:>11} {:>11}",
        "from", "wall_s", "events", "ns/event", "eng_wait_s", "col_wait_s"
    );
    // The step ending at `next` is printed at the first look at the clock past it; the first
    // step includes building the world, the last ends with the run and its tables.
    let mut next = step.as_nanos();
    let (mut last_wall, mut last_events) = (started.elapsed().as_secs_f64(), 0u64);
    let mut last_waits = (0u64, 0u64);
    let mut line = |events: u64, wall: f64, from: u64| {
        let n = events - last_events;
        let waits = (
            ENGINE_WAITED_NS.load(Relaxed),
            COLLECTING_WAITED_NS.load(Relaxed),
        );
        println!(
            "{:>9} {:>10.3} {:>12} {:>9.1} {:>11.3} {:>11.3}",
            SimDuration(from).to_string(),
            wall - last_wall,
            n,
            (wall - last_wall) * 1e9 / n.max(1) as f64,
            (waits.0 - last_waits.0) as f64 / 1e9,
            (waits.1 - last_waits.1) as f64 / 1e9,
        );
        (last_wall, last_events, last_waits) = (wall, events, waits);
    };
    let mut observer = |p: Progress| {
        if p.now.as_nanos() >= next {
            let from = next - step.as_nanos();
            line(p.events, started.elapsed().as_secs_f64(), from);
            // Steps passed without a look at the clock (few events) are in this line.
            next = (p.now.as_nanos() / step.as_nanos() + 1).saturating_mul(step.as_nanos());
        }
        true
    };
    let out = simulate_opts(
        &loaded,
        &mut RunControl::every(CHECK_EVERY, &mut observer),
        RunOptions {
            clock: Some(monotonic),
            ..RunOptions::default()
        },
    );
    line(
        out.events,
        started.elapsed().as_secs_f64(),
        next - step.as_nanos(),
    );
    println!(
        "end: {} events, {:.2} s wall, {} thread(s)",
        out.events,
        started.elapsed().as_secs_f64(),
        out.threads
    );
    if let Some(w) = out.pipe_waits {
        let secs = |t: Option<Duration>| t.unwrap_or_default().as_secs_f64();
        println!(
            "waited: the engine {:.2} s for the collecting side, the collecting side {:.2} s for the engine",
            secs(w.engine.time),
            secs(w.collecting.time)
        );
    }
}
