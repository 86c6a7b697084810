//! The HTTP side of the twin (axum on tokio). CB-Spider's routes under `/spider` and the twin's
//! under `/cloudtwin` go to the simulation thread as they are (method, path, query, body) and
//! come back with its answer; `GET /spider/readyz|healthcheck|health|ping` answer here (200
//! `{"message":"CB-Spider is ready"}`, as Spider's), and `GET /metrics` is the Prometheus text.
//! Optional HTTP Basic auth as Spider's (health routes exempt: 401 otherwise, nothing done);
//! bodies over 1 MiB are refused with 413 before they reach the simulation.
//!
//! Sources: `../shared/domain/spider-api.md` sections 0 (auth, health) and 1.1.

use super::metrics::HttpMetrics;
use super::pacing::{Reply, SimHandle, ToSim};
use axum::Router;
use axum::extract::{Request, State as Axum};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use cloudtwin::twin::ApiRequest;
use cloudtwin::twin::routes;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

/// Requests larger than this are refused (413).
pub const MAX_BODY: usize = 1 << 20;

/// What every handler shares.
#[derive(Clone)]
pub struct State(Arc<Inner>);

struct Inner {
    sim: SimHandle,
    /// The `Authorization` header value required, if any.
    auth: Option<String>,
    metrics: Mutex<HttpMetrics>,
    speed: f64,
}

impl State {
    pub fn new(sim: SimHandle, auth: Option<(String, String)>, speed: f64) -> Self {
        let auth = auth.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        State(Arc::new(Inner {
            sim,
            auth,
            metrics: Mutex::new(HttpMetrics::default()),
            speed,
        }))
    }
}

impl State {
    /// The HTTP counters (a panic elsewhere cannot lock them out).
    fn metrics(&self) -> std::sync::MutexGuard<'_, HttpMetrics> {
        self.0.metrics.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every route: a fallback that passes requests on.
pub fn router(state: State) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Resolves on SIGINT or SIGTERM, after telling the simulation to stop: it then answers the
/// requests still waiting for a VM (503), so the server's graceful shutdown, which waits for
/// every request in flight, can end.
pub async fn stop_signal(state: State) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    state.0.sim.send(ToSim::Stop);
}

fn json(status: u16, body: String) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_empty() {
        return code.into_response();
    }
    (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn message(status: u16, text: &str) -> Response {
    json(status, serde_json::json!({ "message": text }).to_string())
}

const HEALTH: [&str; 4] = [
    "/spider/readyz",
    "/spider/healthcheck",
    "/spider/health",
    "/spider/ping",
];

async fn handle(Axum(st): Axum<State>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let path = uri.path();
    if method == Method::GET && HEALTH.contains(&path) {
        return message(200, "CB-Spider is ready");
    }
    let label = routes::route(method.as_str(), path)
        .map(|m| m.label)
        .unwrap_or(routes::OTHER);
    // Credentials first: nothing else is read (not even the body) without them.
    if let Some(want) = &st.0.auth {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(want.as_str()) {
            st.metrics().record(label, 401, started.elapsed());
            let mut r = message(401, "Unauthorized");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"CB-Spider\""),
            );
            return r;
        }
    }
    if method == Method::GET && path == "/metrics" {
        return metrics(&st).await;
    }
    if !(path.starts_with("/spider/") || path.starts_with("/cloudtwin/")) {
        return message(404, "Not Found");
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        st.metrics().record(label, 413, started.elapsed());
        return message(413, "the request body is larger than 1 MiB");
    };
    let req = ApiRequest::new(
        method.as_str(),
        path,
        uri.query().unwrap_or(""),
        &String::from_utf8_lossy(&body),
    );
    let (tx, rx) = oneshot::channel();
    let answer = if st.0.sim.send(ToSim::Request { req, reply: tx }) {
        rx.await.unwrap_or(Reply {
            status: 503,
            body: serde_json::json!({ "message": "the twin stopped" }).to_string(),
        })
    } else {
        Reply {
            status: 503,
            body: serde_json::json!({ "message": "the twin is stopping" }).to_string(),
        }
    };
    st.metrics().record(label, answer.status, started.elapsed());
    json(answer.status, answer.body)
}

async fn metrics(st: &State) -> Response {
    let (tx, rx) = oneshot::channel();
    let snapshot = if st.0.sim.send(ToSim::Snapshot(tx)) {
        rx.await.ok()
    } else {
        None
    };
    let text = st.metrics().render(snapshot.as_ref(), st.0.speed);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}
