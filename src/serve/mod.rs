//! `cloudtwin serve`: the live twin's server, a layer over the library like the CLI. It reads
//! the wall clock (the library never does), paces simulated time to it, and hands the
//! simulation timestamped requests.
//!
//! - `http.rs`: the HTTP side on axum/tokio: CB-Spider's routes (and `/cloudtwin`) passed to
//!   the simulation thread, health routes, optional Basic auth, body limits, `/metrics`;
//! - `pacing.rs`: the simulation thread: simulated time = wall time x speed, requests stamped
//!   with the simulated time they arrive at, events handled as the paced clock reaches them
//!   (never ahead of it), answers sent back, the journal written as it goes;
//! - `metrics.rs`: the Prometheus text of `/metrics`.
//!
//! SIGINT or SIGTERM stops it: no new requests, the ones waiting are answered (503), and the
//! results folder is written as `run` writes it, plus the journal and `api.csv`.

mod http;
mod metrics;
mod pacing;

use cloudtwin::output::ResultsDir;
use cloudtwin::output::names::file;
use cloudtwin::scenario::Loaded;
use cloudtwin::twin::Session;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

/// How to serve.
pub struct Options {
    pub listen: SocketAddr,
    /// Simulated seconds per wall second.
    pub speed: f64,
    /// HTTP Basic credentials every route but the health checks requires.
    pub auth: Option<(String, String)>,
}

/// What a served session ended with.
pub struct Served {
    pub folder: PathBuf,
    pub requests: u64,
    pub sim_time_s: f64,
    pub wall_s: f64,
}

/// Serves until SIGINT/SIGTERM, then writes the results folder `dir`.
pub fn serve(loaded: Loaded, opts: Options, dir: ResultsDir) -> Result<Served, String> {
    let started = Instant::now();
    let journal_path = dir.path(file::API_JOURNAL).map_err(|e| e.to_string())?;
    let session = Session::new(loaded.clone())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server runtime: {e}"))?;
    let listener = std::net::TcpListener::bind(opts.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let epoch_s = loaded.scenario.serve.epoch_s;
    let sim = pacing::start(session, opts.speed, epoch_s, &journal_path)?;
    let state = http::State::new(sim.handle(), opts.auth.clone(), opts.speed);
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        outln!("listening on http://{addr}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        axum::serve(listener, http::router(state.clone()))
            .with_graceful_shutdown(http::stop_signal(state))
            .await
            .map_err(|e| format!("the server failed: {e}"))
    });
    // Whatever ended the server, the simulation stops and the session is written.
    let outcome = sim.stop()?;
    result?;
    let wall_s = started.elapsed().as_secs_f64();
    let info = serde_json::json!({
        "listen": addr.to_string(),
        "speed": opts.speed,
        "requests": outcome.requests,
        "max_lag_s": outcome.max_lag_s,
        "mean_lag_s": outcome.mean_lag_s,
    });
    let folder = cloudtwin::run::write_results_with(&loaded, &outcome.out, dir, wall_s, Some(info))
        .map_err(|e| e.to_string())?;
    Ok(Served {
        folder,
        requests: outcome.requests,
        sim_time_s: outcome.out.end.as_secs_f64(),
        wall_s,
    })
}
