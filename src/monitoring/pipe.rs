//! The collecting side on a thread of its own: the engine's thread sends it commands in
//! batches (`BATCH` at a time, through a bounded channel; emptied batches come back to be
//! refilled), and it applies them in order. The results are those of applying each command
//! on the engine's thread: the same commands arrive in the same order, and nothing the
//! collecting side computes goes back. On a machine with two cores, a report's collector
//! work (service, contention, rounds, storage, histograms) overlaps the engine's (event list,
//! agents, network draws).
//!
//! Each side counts the batches it had to wait for ([`PipeWaits`]): the engine's thread when
//! the pipe was full (the collecting side is behind), the collecting side when it was empty
//! (the engine is behind). Which count is the larger says which thread sets a run's pace;
//! they are counts, not times (the library reads no clock), and they vary from run to run
//! while the results do not.

use super::sink::{Cmd, Sink};
use crate::engine::hint::prefetch;
use std::sync::mpsc::{
    Receiver, SendError, SyncSender, TryRecvError, TrySendError, channel, sync_channel,
};
use std::thread::JoinHandle;

/// Commands per batch: large enough that a channel operation is rare (one per ~1,000
/// reports), small enough that a batch stays in the caches both threads share.
const BATCH: usize = 1024;

/// Batches in flight at once: the engine's thread may run this far ahead.
const IN_FLIGHT: usize = 8;

/// How often each side of a pipe waited for the other, over a run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PipeWaits {
    /// Batches sent.
    pub batches: u64,
    /// Batches the engine's thread found no room for: it waited for the collecting side.
    pub engine_waited: u64,
    /// Batches the collecting side did not find ready: it waited for the engine's thread.
    pub collecting_waited: u64,
}

/// The engine's end of the pipe.
pub(super) struct Pipe {
    batch: Vec<Cmd>,
    /// `None` once closed.
    to_sink: Option<SyncSender<Vec<Cmd>>>,
    emptied: Receiver<Vec<Cmd>>,
    /// `None` once joined. The worker gives back the sink and the batches it waited for.
    worker: Option<JoinHandle<(Box<Sink>, u64)>>,
    batches: u64,
    engine_waited: u64,
}

impl Pipe {
    /// Moves `sink` onto its own thread; gives it back if no thread can be started.
    pub(super) fn spawn(sink: Box<Sink>) -> Result<Pipe, Box<Sink>> {
        let (to_sink, batches) = sync_channel::<Vec<Cmd>>(IN_FLIGHT);
        let (give_back, emptied) = channel::<Vec<Cmd>>();
        // The sink is handed over once the thread exists, so a failed start keeps it here.
        let (hand_over, take) = channel::<Box<Sink>>();
        let spawned = std::thread::Builder::new()
            .name("monitoring-sink".into())
            .spawn(move || {
                let mut sink = take.recv().expect("the sink is handed over");
                let mut waited = 0;
                while let Some(mut batch) = next_batch(&batches, &mut waited) {
                    apply_batch(&mut sink, &batch);
                    batch.clear();
                    assert!(
                        sink.collectors.outbox_is_empty(),
                        "a pipelined collector completed a service as an engine event"
                    );
                    // The engine's end may be gone (its run ended): then the batch is dropped.
                    let _ = give_back.send(batch);
                }
                (sink, waited)
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
            engine_waited: 0,
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
        let waited = &mut self.engine_waited;
        let sent = self.to_sink.as_ref().map(|t| send_counted(t, full, waited));
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
        let (sink, collecting_waited) = self.join();
        let waits = PipeWaits {
            batches: self.batches,
            engine_waited: self.engine_waited,
            collecting_waited,
        };
        (sink, waits)
    }

    /// Closes the pipe and waits for the worker (re-raising its panic, if any).
    fn join(&mut self) -> (Box<Sink>, u64) {
        self.to_sink = None;
        let worker = self.worker.take().expect("the worker is joined once");
        match worker.join() {
            Ok(back) => back,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Sends `item`, waiting for room if there is none; a wait counts in `waited`.
fn send_counted<T>(to: &SyncSender<T>, item: T, waited: &mut u64) -> Result<(), SendError<T>> {
    match to.try_send(item) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(item)) => {
            *waited += 1;
            to.send(item)
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
/// at once counts in `waited`.
fn next_batch<T>(batches: &Receiver<T>, waited: &mut u64) -> Option<T> {
    match batches.try_recv() {
        Ok(b) => Some(b),
        Err(TryRecvError::Disconnected) => None,
        Err(TryRecvError::Empty) => {
            let b = wait_for_batch(batches)?;
            *waited += 1;
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
    use std::time::Duration;

    /// The other side acts after a pause (for the order of the two sides, not a timing).
    const PAUSE: Duration = Duration::from_millis(30);

    #[test]
    fn the_collecting_side_counts_the_batches_it_waited_for() {
        let (to, from) = sync_channel::<u32>(4);
        let mut waited = 0;
        to.send(1).unwrap();
        assert_eq!(next_batch(&from, &mut waited), Some(1));
        assert_eq!(waited, 0, "a batch that was there");
        let sender = std::thread::spawn(move || {
            std::thread::sleep(PAUSE);
            to.send(2).unwrap();
            std::thread::sleep(PAUSE);
            // closes the pipe
        });
        assert_eq!(next_batch(&from, &mut waited), Some(2));
        assert_eq!(waited, 1, "a batch that had to be waited for");
        assert_eq!(next_batch(&from, &mut waited), None, "the pipe closed");
        assert_eq!(waited, 1, "waiting for the end is not a batch");
        sender.join().unwrap();
    }

    #[test]
    fn the_engine_counts_the_batches_it_found_no_room_for() {
        let (to, from) = sync_channel::<u32>(1);
        let mut waited = 0;
        send_counted(&to, 1, &mut waited).unwrap();
        assert_eq!(waited, 0, "room for one");
        let receiver = std::thread::spawn(move || {
            std::thread::sleep(PAUSE);
            let got: Vec<u32> = from.iter().collect();
            got
        });
        send_counted(&to, 2, &mut waited).unwrap();
        assert_eq!(waited, 1, "the pipe was full");
        drop(to);
        assert_eq!(receiver.join().unwrap(), [1, 2], "both arrive, in order");
        let (to, from) = sync_channel::<u32>(1);
        drop(from);
        assert!(
            send_counted(&to, 3, &mut waited).is_err(),
            "nobody to send to"
        );
        assert_eq!(waited, 1);
    }
}
