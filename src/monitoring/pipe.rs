//! The collecting side on a thread of its own: the engine's thread sends it commands in
//! batches (`BATCH` at a time, through a bounded channel; emptied batches come back to be
//! refilled), and it applies them in order. The results are those of applying each command
//! on the engine's thread: the same commands arrive in the same order, and nothing the
//! collecting side computes goes back. On a machine with two cores, a report's collector
//! work (service, contention, rounds, storage, histograms) overlaps the engine's (event list,
//! agents, network draws).
//!
//! A layout of the agents (`Agents::lay_out`) travels down the same pipe, after the batch of
//! the commands before it: the collecting side moves its per-agent tables at that point in
//! the commands' order.
//!
//! Each side counts the batches it had to wait for ([`PipeWaits`]): the engine's thread when
//! the pipe was full (the collecting side is behind), the collecting side when it was empty
//! (the engine is behind). With a clock the caller lends (the library reads none of its own)
//! each side also times its waits, and the times say which thread set a run's pace: the
//! counts alone mislead, as the collecting side waits often and briefly and the engine's
//! thread seldom and long (it sleeps until woken). Both vary from run to run; the results
//! do not.

use super::sink::{Cmd, Sink};
use crate::engine::hint::prefetch;
use std::sync::mpsc::{
    Receiver, SendError, SyncSender, TryRecvError, TrySendError, channel, sync_channel,
};
use std::thread::JoinHandle;
use std::time::Duration;

/// Commands per batch: large enough that a channel operation is rare (one per ~1,000
/// reports), small enough that a batch stays in the caches both threads share.
const BATCH: usize = 1024;

/// Batches in flight at once: the engine's thread may run this far ahead.
const IN_FLIGHT: usize = 8;

/// A monotonic clock the caller lends the pipe to time the waits (the library reads no clock
/// of its own): the time since any fixed instant. It is read exactly twice per wait, where the
/// wait starts and where it ends, on the thread that waits (the tests below pin this: a clock
/// that advances 1 ms per reading times each wait at 1 ms), so a caller may pair its readings
/// per thread to follow the waits as they happen (`examples/pace.rs` does).
pub type WaitClock = fn() -> Duration;

/// How often, and with a clock how long, each side of a pipe waited for the other over a run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PipeWaits {
    /// Batches sent.
    pub batches: u64,
    /// The engine's thread waited for the collecting side: batches it found no room for.
    pub engine: Waited,
    /// The collecting side waited for the engine's thread: batches it did not find ready.
    pub collecting: Waited,
}

/// One side's waits.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Waited {
    /// Batches waited for.
    pub batches: u64,
    /// Time spent waiting: `None` without a clock.
    pub time: Option<Duration>,
}

/// One side's waits as they are kept: counted, and timed when there is a clock.
#[derive(Copy, Clone, Debug)]
struct Waiting {
    clock: Option<WaitClock>,
    waited: Waited,
}

impl Waiting {
    /// No wait yet (with a clock, zero time rather than none).
    fn new(clock: Option<WaitClock>) -> Self {
        let time = clock.map(|_| Duration::ZERO);
        Waiting {
            clock,
            waited: Waited { batches: 0, time },
        }
    }

    /// The clock's reading where a wait starts (`None` without a clock).
    fn start(&self) -> Option<Duration> {
        self.clock.map(|now| now())
    }

    /// A wait that started at `start` is over: one more batch, and its time.
    fn done(&mut self, start: Option<Duration>) {
        self.waited.batches += 1;
        if let (Some(now), Some(start), Some(time)) = (self.clock, start, &mut self.waited.time) {
            *time += now().saturating_sub(start);
        }
    }
}

/// What travels down the pipe, in order.
enum Parcel {
    /// Commands, to apply in order (the emptied batch comes back).
    Batch(Vec<Cmd>),
    /// The agents moved to `new_slot[slot]` ([`Sink::lay_out`]).
    LayOut(Vec<u32>),
}

/// The engine's end of the pipe.
pub(super) struct Pipe {
    batch: Vec<Cmd>,
    /// `None` once closed.
    to_sink: Option<SyncSender<Parcel>>,
    emptied: Receiver<Vec<Cmd>>,
    /// `None` once joined. The worker gives back the sink and its waits.
    worker: Option<JoinHandle<(Box<Sink>, Waited)>>,
    batches: u64,
    waiting: Waiting,
}

impl Pipe {
    /// Moves `sink` onto its own thread; gives it back if no thread can be started. With a
    /// `clock`, both sides time their waits.
    pub(super) fn spawn(sink: Box<Sink>, clock: Option<WaitClock>) -> Result<Pipe, Box<Sink>> {
        let (to_sink, parcels) = sync_channel::<Parcel>(IN_FLIGHT);
        let (give_back, emptied) = channel::<Vec<Cmd>>();
        // The sink is handed over once the thread exists, so a failed start keeps it here.
        let (hand_over, take) = channel::<Box<Sink>>();
        let spawned = std::thread::Builder::new()
            .name("monitoring-sink".into())
            .spawn(move || {
                let mut sink = take.recv().expect("the sink is handed over");
                let mut waiting = Waiting::new(clock);
                while let Some(parcel) = next_batch(&parcels, &mut waiting) {
                    let mut batch = match parcel {
                        Parcel::Batch(batch) => batch,
                        Parcel::LayOut(new_slot) => {
                            sink.lay_out(&new_slot);
                            continue;
                        }
                    };
                    apply_batch(&mut sink, &batch);
                    batch.clear();
                    assert!(
                        sink.sites.iter().all(|s| s.collectors.outbox_is_empty()),
                        "a pipelined collector completed a service as an engine event"
                    );
                    // The engine's end may be gone (its run ended): then the batch is dropped.
                    let _ = give_back.send(batch);
                }
                (sink, waiting.waited)
            });
        let Ok(worker) = spawned else {
            return Err(sink);
        };
        hand_over
            .send(sink)
            .expect("the new thread waits for the sink");
        Ok(Pipe {
            batch: Vec::with_capacity(BATCH),
            to_sink: Some(to_sink),
            emptied,
            worker: Some(worker),
            batches: 0,
            waiting: Waiting::new(clock),
        })
    }

    /// Queues one command.
    #[inline(always)]
    pub(super) fn send(&mut self, cmd: Cmd) {
        self.batch.push(cmd);
        if self.batch.len() == BATCH {
            self.flush();
        }
    }

    #[cold]
    #[inline(never)]
    fn flush(&mut self) {
        let next = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        self.batches += 1;
        self.post(Parcel::Batch(full));
    }

    /// The agents moved to `new_slot[slot]` (`Agents::lay_out`): the collecting side moves
    /// its tables after the commands sent so far, before the next.
    pub(super) fn lay_out(&mut self, new_slot: Vec<u32>) {
        if !self.batch.is_empty() {
            self.flush();
        }
        self.post(Parcel::LayOut(new_slot));
    }

    /// Sends a parcel, waiting for room if there is none.
    fn post(&mut self, parcel: Parcel) {
        let waiting = &mut self.waiting;
        let sent = self
            .to_sink
            .as_ref()
            .map(|t| send_counted(t, parcel, waiting));
        if !matches!(sent, Some(Ok(()))) {
            // The worker stopped, which only a panic does: surface it on this thread.
            self.join();
            unreachable!("the collecting side stopped before its pipe was closed");
        }
    }

    /// Sends the last commands and takes the collecting side back once it applied them all,
    /// with the waits of both sides.
    pub(super) fn finish(mut self) -> (Box<Sink>, PipeWaits) {
        if !self.batch.is_empty() {
            self.flush();
        }
        let (sink, collecting) = self.join();
        let waits = PipeWaits {
            batches: self.batches,
            engine: self.waiting.waited,
            collecting,
        };
        (sink, waits)
    }

    /// Closes the pipe and waits for the worker (re-raising its panic, if any).
    fn join(&mut self) -> (Box<Sink>, Waited) {
        self.to_sink = None;
        let worker = self.worker.take().expect("the worker is joined once");
        match worker.join() {
            Ok(back) => back,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Sends `item`, waiting for room if there is none; a wait counts in `waiting`.
fn send_counted<T>(to: &SyncSender<T>, item: T, waiting: &mut Waiting) -> Result<(), SendError<T>> {
    match to.try_send(item) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(item)) => {
            let start = waiting.start();
            let sent = to.send(item);
            waiting.done(start);
            sent
        }
        Err(TrySendError::Disconnected(item)) => Err(SendError(item)),
    }
}

/// How far ahead of the command being applied the worker asks for memory: the commands
/// themselves (written on the other core), and the topics of the reports they carry (at a
/// million agents, a random one of megabytes).
const READ_AHEAD: usize = 16;

/// Applies a batch in order, asking for each command and its report's topic `READ_AHEAD`
/// commands early (hints only: the order and the results do not depend on them).
fn apply_batch(sink: &mut Sink, batch: &[Cmd]) {
    for (i, cmd) in batch.iter().enumerate() {
        if let Some(ahead) = batch.get(i + READ_AHEAD) {
            prefetch(ahead);
            if let Some(nearer) = batch.get(i + READ_AHEAD / 2) {
                sink.prefetch(nearer);
            }
        }
        sink.apply(*cmd);
    }
}

/// Polls this many times for the next batch before sleeping until it comes.
const POLLS: u32 = 20_000;

/// The next batch, `None` once the engine's end closed the pipe; a batch that was not there
/// at once counts in `waiting`.
fn next_batch<T>(batches: &Receiver<T>, waiting: &mut Waiting) -> Option<T> {
    match batches.try_recv() {
        Ok(b) => Some(b),
        Err(TryRecvError::Disconnected) => None,
        Err(TryRecvError::Empty) => {
            let start = waiting.start();
            // (Waiting for the pipe to close is not waiting for a batch.)
            let b = wait_for_batch(batches)?;
            waiting.done(start);
            Some(b)
        }
    }
}

/// Waits for the next batch (`None`: the pipe closed). The collecting side is usually faster
/// than the engine and waits for it: it polls for a while (yielding the core between polls)
/// before it sleeps, so the engine's thread seldom has to wake it, a system call per batch.
fn wait_for_batch<T>(batches: &Receiver<T>) -> Option<T> {
    for i in 0..POLLS {
        match batches.try_recv() {
            Ok(b) => return Some(b),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if i % 64 == 63 => std::thread::yield_now(),
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    batches.recv().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The other side acts after a pause (for the order of the two sides, not a timing).
    const PAUSE: Duration = Duration::from_millis(30);

    /// A clock that advances a millisecond each time it is read (a wait takes 1 ms), one per
    /// test: tests run at once.
    macro_rules! ticks {
        () => {{
            fn ticks() -> Duration {
                static NOW: AtomicU64 = AtomicU64::new(0);
                Duration::from_millis(NOW.fetch_add(1, Ordering::Relaxed))
            }
            ticks as WaitClock
        }};
    }

    #[test]
    fn the_collecting_side_counts_the_batches_it_waited_for() {
        for clock in [None, Some(ticks!())] {
            let (to, from) = sync_channel::<u32>(4);
            let mut waiting = Waiting::new(clock);
            let none = waiting.waited;
            assert_eq!(none.time.is_some(), clock.is_some(), "timed with a clock");
            to.send(1).unwrap();
            assert_eq!(next_batch(&from, &mut waiting), Some(1));
            assert_eq!(waiting.waited, none, "a batch that was there");
            let sender = std::thread::spawn(move || {
                std::thread::sleep(PAUSE);
                to.send(2).unwrap();
                std::thread::sleep(PAUSE);
                // closes the pipe
            });
            assert_eq!(next_batch(&from, &mut waiting), Some(2));
            let once = Waited {
                batches: 1,
                time: clock.map(|_| Duration::from_millis(1)),
            };
            assert_eq!(waiting.waited, once, "a batch that had to be waited for");
            assert_eq!(next_batch(&from, &mut waiting), None, "closed");
            assert_eq!(
                waiting.waited, once,
                "waiting for the end is not for a batch"
            );
            sender.join().unwrap();
        }
    }

    #[test]
    fn the_engine_counts_the_batches_it_found_no_room_for() {
        for clock in [None, Some(ticks!())] {
            let (to, from) = sync_channel::<u32>(1);
            let mut waiting = Waiting::new(clock);
            let none = waiting.waited;
            send_counted(&to, 1, &mut waiting).unwrap();
            assert_eq!(waiting.waited, none, "room for one");
            let receiver = std::thread::spawn(move || {
                std::thread::sleep(PAUSE);
                let got: Vec<u32> = from.iter().collect();
                got
            });
            send_counted(&to, 2, &mut waiting).unwrap();
            let once = Waited {
                batches: 1,
                time: clock.map(|_| Duration::from_millis(1)),
            };
            assert_eq!(waiting.waited, once, "the pipe was full");
            drop(to);
            assert_eq!(receiver.join().unwrap(), [1, 2], "both arrive, in order");
            let (to, from) = sync_channel::<u32>(1);
            drop(from);
            assert!(send_counted(&to, 3, &mut waiting).is_err(), "nobody there");
            assert_eq!(waiting.waited, once);
        }
    }
}
