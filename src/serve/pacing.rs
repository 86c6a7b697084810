//! The simulation thread of a served session. Simulated time is the wall time since the start
//! times `--speed`; the thread handles the events the paced clock has reached (never one
//! ahead of it), in steps of at most 5 ms of wall time so that requests waiting are taken in
//! between; each request is stamped with the simulated time the thread takes it at (the paced
//! clock, or the last handled time if the simulation lags behind) and handed to the session;
//! answers go back to the HTTP handlers that wait for them. Every request and answer is
//! written to the journal as it happens. When idle the thread sleeps until the next event is
//! due or a request comes.

use cloudtwin::engine::{SimDuration, SimTime};
use cloudtwin::run::RunOutput;
use cloudtwin::twin::journal::{Line, VERSION};
use cloudtwin::twin::session::Gauges;
use cloudtwin::twin::{ApiAnswer, ApiRequest, Session};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// An answer for the HTTP side.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// The twin's figures with the pacing's own.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub gauges: Gauges,
    /// How far the simulation is behind the paced clock, in simulated seconds.
    pub lag_s: f64,
    /// The paced clock, in simulated seconds.
    pub paced_s: f64,
}

/// What the HTTP side sends the simulation thread.
pub enum ToSim {
    Request {
        req: ApiRequest,
        reply: oneshot::Sender<Reply>,
    },
    Snapshot(oneshot::Sender<Snapshot>),
    Stop,
}

/// The way to the simulation thread.
#[derive(Clone)]
pub struct SimHandle {
    tx: mpsc::Sender<ToSim>,
}

impl SimHandle {
    /// Hands a request to the simulation; `None` once it has stopped.
    pub fn send(&self, msg: ToSim) -> bool {
        self.tx.send(msg).is_ok()
    }
}

/// How the session ended.
pub struct Outcome {
    pub out: RunOutput,
    pub requests: u64,
    pub max_lag_s: f64,
    pub mean_lag_s: f64,
}

/// The running simulation thread.
pub struct Sim {
    handle: SimHandle,
    thread: std::thread::JoinHandle<Result<Outcome, String>>,
}

impl Sim {
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Stops the simulation at the time it has reached and returns the session's results.
    pub fn stop(self) -> Result<Outcome, String> {
        self.handle.send(ToSim::Stop);
        self.thread
            .join()
            .map_err(|_| "the simulation thread failed".to_string())?
    }
}

/// Starts the simulation thread.
pub fn start(session: Session, speed: f64, epoch_s: u64, journal: &Path) -> Result<Sim, String> {
    let file =
        File::create(journal).map_err(|e| format!("cannot write {}: {e}", journal.display()))?;
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("cloudtwin-sim".into())
        .spawn(move || Pacer::new(speed, epoch_s, BufWriter::new(file)).run(session, rx))
        .map_err(|e| format!("cannot start the simulation thread: {e}"))?;
    Ok(Sim {
        handle: SimHandle { tx },
        thread,
    })
}

struct Pacer {
    speed: f64,
    clock: Instant,
    journal: BufWriter<File>,
    replies: BTreeMap<u64, oneshot::Sender<Reply>>,
    requests: u64,
    lag_max: f64,
    lag_sum: f64,
    lag_n: u64,
    lag_now: f64,
    io_error: Option<String>,
}

impl Pacer {
    fn new(speed: f64, epoch_s: u64, journal: BufWriter<File>) -> Self {
        let mut p = Pacer {
            speed,
            clock: Instant::now(),
            journal,
            replies: BTreeMap::new(),
            requests: 0,
            lag_max: 0.0,
            lag_sum: 0.0,
            lag_n: 0,
            lag_now: 0.0,
            io_error: None,
        };
        p.write(&Line::Start {
            version: VERSION,
            epoch_s,
            speed,
        });
        p
    }

    /// The paced clock: simulated time now.
    fn paced(&self) -> SimTime {
        SimTime((self.clock.elapsed().as_nanos() as f64 * self.speed) as u64)
    }

    fn write(&mut self, line: &Line) {
        if let Err(e) = self.journal.write_all(line.to_json_line().as_bytes()) {
            self.io_error
                .get_or_insert(format!("the journal cannot be written: {e}"));
        }
    }

    fn deliver(&mut self, answers: Vec<ApiAnswer>) {
        for a in answers {
            self.write(&Line::Answer {
                id: a.id,
                t_ns: a.at.as_nanos(),
                status: a.status,
            });
            if let Some(tx) = self.replies.remove(&a.id) {
                // The client may have gone: the answer stays in the journal.
                let _ = tx.send(Reply {
                    status: a.status,
                    body: a.body,
                });
            }
        }
    }

    fn snapshot(&self, session: &Session) -> Snapshot {
        Snapshot {
            gauges: session.gauges(),
            lag_s: self.lag_now,
            paced_s: self.paced().as_secs_f64(),
        }
    }

    fn run(mut self, mut session: Session, rx: mpsc::Receiver<ToSim>) -> Result<Outcome, String> {
        // At most 5 ms of wall time per step, so requests are taken between steps.
        let step = SimDuration::from_nanos(((5e6 * self.speed) as u64).max(1));
        let mut inbox: Vec<ToSim> = Vec::new();
        let mut stop = false;
        while !stop {
            // Catch up with the paced clock, unless requests are waiting.
            let target = self.paced();
            while session.frontier() < target {
                let next = target.min(session.frontier() + step);
                session.advance_before(next);
                let answers = session.take_answers();
                self.deliver(answers);
                match rx.try_recv() {
                    Ok(m) => {
                        inbox.push(m);
                        break;
                    }
                    Err(mpsc::TryRecvError::Empty) => {}
                    Err(mpsc::TryRecvError::Disconnected) => {
                        stop = true;
                        break;
                    }
                }
            }
            let lag = target.as_secs_f64() - session.frontier().as_secs_f64();
            self.lag_now = lag.max(0.0);
            self.lag_max = self.lag_max.max(self.lag_now);
            self.lag_sum += self.lag_now;
            self.lag_n += 1;

            // Take every waiting message; requests arrive at the time reached.
            while let Ok(m) = rx.try_recv() {
                inbox.push(m);
            }
            let mut submitted = false;
            for m in inbox.drain(..) {
                match m {
                    ToSim::Request { req, reply } => {
                        let at = session.frontier();
                        let (id, at) = session.submit(at, req.clone());
                        self.write(&Line::request(id, at, req));
                        self.replies.insert(id, reply);
                        self.requests += 1;
                        submitted = true;
                    }
                    ToSim::Snapshot(tx) => {
                        let _ = tx.send(self.snapshot(&session));
                    }
                    ToSim::Stop => stop = true,
                }
            }
            if submitted {
                // Handle them now: the events of this instant, requests included.
                let now = session.frontier();
                session.advance_before(now + SimDuration::from_nanos(1));
                let answers = session.take_answers();
                self.deliver(answers);
            }
            let _ = self.journal.flush();
            if stop {
                break;
            }
            // Sleep until the next event is due (at most 50 ms) or a message comes.
            let paced = self.paced();
            let wait = match session.next_event_time() {
                Some(t) if t > paced => {
                    Duration::from_secs_f64(t.since(paced).as_secs_f64() / self.speed)
                }
                Some(_) => Duration::ZERO,
                None => Duration::from_millis(50),
            }
            .min(Duration::from_millis(50));
            if wait.is_zero() {
                continue;
            }
            match rx.recv_timeout(wait) {
                Ok(m) => inbox.push(m),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => stop = true,
            }
        }
        // Messages sent while stopping: requests are refused, the rest answered.
        while let Ok(m) = rx.try_recv() {
            match m {
                ToSim::Request { reply, .. } => {
                    let _ = reply.send(Reply {
                        status: 503,
                        body: serde_json::json!({ "message": "the twin is stopping" }).to_string(),
                    });
                }
                ToSim::Snapshot(tx) => {
                    let _ = tx.send(self.snapshot(&session));
                }
                ToSim::Stop => {}
            }
        }
        let end = session.frontier();
        let (out, answers) = session.finish(end);
        self.deliver(answers);
        self.write(&Line::End {
            t_ns: end.as_nanos(),
        });
        if let Err(e) = self.journal.flush() {
            self.io_error
                .get_or_insert(format!("the journal cannot be written: {e}"));
        }
        if let Some(e) = self.io_error {
            return Err(e);
        }
        Ok(Outcome {
            out,
            requests: self.requests,
            max_lag_s: self.lag_max,
            mean_lag_s: self.lag_sum / self.lag_n.max(1) as f64,
        })
    }
}
