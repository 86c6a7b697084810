//! The collecting side on a thread of its own: the engine's thread sends it commands in
//! batches (`BATCH` at a time, through a bounded channel; emptied batches come back to be
//! refilled), and it applies them in order. The results are those of applying each command
//! on the engine's thread: the same commands arrive in the same order, and nothing the
//! collecting side computes goes back. On a machine with two cores, a report's collector
//! work (service, contention, rounds, storage, histograms) overlaps the engine's (event list,
//! agents, network draws).

use super::sink::{Cmd, Sink};
use crate::engine::hint::prefetch;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, channel, sync_channel};
use std::thread::JoinHandle;

/// Commands per batch: large enough that a channel operation is rare (one per ~1,000
/// reports), small enough that a batch stays in the caches both threads share.
const BATCH: usize = 1024;

/// Batches in flight at once: the engine's thread may run this far ahead.
const IN_FLIGHT: usize = 8;

/// The engine's end of the pipe.
pub(super) struct Pipe {
    batch: Vec<Cmd>,
    /// `None` once closed.
    to_sink: Option<SyncSender<Vec<Cmd>>>,
    emptied: Receiver<Vec<Cmd>>,
    /// `None` once joined.
    worker: Option<JoinHandle<Box<Sink>>>,
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
                while let Some(mut batch) = next_batch(&batches) {
                    apply_batch(&mut sink, &batch);
                    batch.clear();
                    assert!(
                        sink.collectors.outbox_is_empty(),
                        "a pipelined collector completed a service as an engine event"
                    );
                    // The engine's end may be gone (its run ended): then the batch is dropped.
                    let _ = give_back.send(batch);
                }
                sink
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
        let sent = self.to_sink.as_ref().map(|t| t.send(full));
        if !matches!(sent, Some(Ok(()))) {
            // The worker stopped, which only a panic does: surface it on this thread.
            self.join();
            unreachable!("the collecting side stopped before its pipe was closed");
        }
    }

    /// Sends the last commands and takes the collecting side back once it applied them all.
    pub(super) fn finish(mut self) -> Box<Sink> {
        if !self.batch.is_empty() {
            self.flush();
        }
        self.join()
    }

    /// Closes the pipe and waits for the worker (re-raising its panic, if any).
    fn join(&mut self) -> Box<Sink> {
        self.to_sink = None;
        let worker = self.worker.take().expect("the worker is joined once");
        match worker.join() {
            Ok(sink) => sink,
            Err(panic) => std::panic::resume_unwind(panic),
        }
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

/// The next batch, `None` once the engine's end closed the pipe. The collecting side is
/// usually faster than the engine and waits for it: it polls for a while (yielding the core
/// between polls) before it sleeps, so the engine's thread seldom has to wake it, a system
/// call per batch.
fn next_batch(batches: &Receiver<Vec<Cmd>>) -> Option<Vec<Cmd>> {
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
