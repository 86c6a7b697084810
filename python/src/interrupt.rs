//! Long work with the GIL released, stoppable by Ctrl-C: the work runs on its own thread while
//! the calling thread waits for it, asking Python every few tens of milliseconds whether a
//! signal arrived (`check_signals`, which runs the SIGINT handler and so raises
//! KeyboardInterrupt). Then the stop flag is set, which the engine's observer and the sweep's
//! hooks read, and the interrupt is raised once the work has stopped (nothing written).

use crate::errors::{Error, run_error};
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// How often the waiting thread asks Python for signals.
const POLL: Duration = Duration::from_millis(50);
/// Stack of the work's thread (as a main thread's: the simulation runs there in the CLI).
const STACK_BYTES: usize = 8 << 20;

/// Runs `work` without the GIL; `stop` is set on Ctrl-C. A panic becomes a `RunError`.
pub fn run<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    let (outcome, signal) = py.detach(|| {
        std::thread::scope(|s| {
            let (done, finished) = channel::<()>();
            let worker = std::thread::Builder::new()
                .name("cloudtwin".into())
                .stack_size(STACK_BYTES)
                .spawn_scoped(s, move || {
                    let r = catch_unwind(AssertUnwindSafe(work));
                    let _ = done.send(());
                    r
                });
            let worker = match worker {
                Ok(w) => w,
                Err(e) => return (Err(format!("cannot start a thread: {e}")), None),
            };
            let mut signal: Option<PyErr> = None;
            while let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(POLL) {
                if signal.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    stop.store(true, Ordering::SeqCst);
                    signal = Some(e);
                }
            }
            let outcome = match worker.join() {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(panic)) | Err(panic) => Err(panic_message(panic.as_ref())),
            };
            (outcome, signal)
        })
    });
    if let Some(e) = signal {
        return Err(e);
    }
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.into_py(py)),
        Err(panic) => Err(run_error(format!("internal error (a panic): {panic}")).into_py(py)),
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
