//! The client API: JSON over HTTPS (axum on hyper 1, served over tokio-rustls).
//!
//! * HTTPS with the node's own TLS certificate (the one its peers pin); clients trust it by its
//!   SHA-256 (`conclave --pin-sha256`) or by the PEM file. Plain HTTP only when the
//!   configuration says `tls = false`, which it allows on a loopback address only.
//! * Authentication: a client certificate whose SHA-256 the node's policy lists, or
//!   `Authorization: Bearer <token>` (the policy lists the token's SHA-256). No credentials, or
//!   credentials naming no client → 401. If both are sent they must name the same client.
//! * Authorisation is the node's policy: write endpoints are checked by the session logic (and
//!   by every other participant against its own policy); read endpoints need the `read` action.
//! * Every error is a JSON [`conclave_api::ErrorBody`] with a stable code (see [`error`]).
//! * Long operations run in their own task: a client that disconnects does not cut a session
//!   short on this node.
//!
//! The routes, their bodies and their errors are in `docs/api.md` and in the OpenAPI document
//! served at `/openapi.json` ([`openapi::document`]).

mod convert;
pub mod error;
mod handlers;
pub mod openapi;
mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use conclave_api::{ErrorCode, MAX_REQUEST_BYTES};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tower::Service;

use crate::config::{ApiConfig, ConfigError};
use crate::error::NodeError;
use crate::policy::Caller;
use crate::transport::TlsIdentity;
use crate::Node;
pub use error::ApiError;

/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 512;
/// A TLS handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A request's headers must arrive within this.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the connection tells the handlers: the peer address and the SHA-256 of the client
/// certificate, if one was presented.
#[derive(Clone, Copy, Debug)]
struct ConnInfo {
    peer: SocketAddr,
    client_cert_sha256: Option<[u8; 32]>,
}

/// Counters of served requests, for `/metrics`.
#[derive(Debug, Default)]
struct ApiMetrics {
    /// (method, route, status) → count.
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
}

#[derive(Clone, Debug)]
struct AppState {
    node: Arc<Node>,
    metrics: Arc<ApiMetrics>,
}

/// The running API server. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct ApiHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ApiHandle {
    /// Where the API listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes every connection. Operations already started (a signing
    /// session, a key generation) finish on their own; their results are then only in the
    /// node's store, session history and audit log.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the API on `cfg.listen`. With `cfg.tls` it serves HTTPS with `tls` (the node's own
/// identity, required then); without, plain HTTP (the configuration allows that on loopback
/// addresses only).
pub async fn serve(node: Arc<Node>, cfg: ApiConfig, tls: Option<TlsIdentity>) -> Result<ApiHandle, NodeError> {
    let acceptor = match (cfg.tls, tls) {
        (true, Some(identity)) => Some(tokio_rustls::TlsAcceptor::from(tls::server_config(&identity)?)),
        (true, None) => {
            return Err(NodeError::Config(ConfigError::Invalid {
                setting: "api.tls".into(),
                reason: "HTTPS needs the node's TLS identity".into(),
            }))
        }
        (false, _) => {
            if !cfg.listen.ip().is_loopback() {
                return Err(NodeError::Config(ConfigError::Invalid {
                    setting: "api.tls".into(),
                    reason: "plain HTTP is only allowed on a loopback address".into(),
                }));
            }
            None
        }
    };
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| NodeError::Transport(format!("API cannot listen on {}: {e}", cfg.listen)))?;
    let addr = listener.local_addr().map_err(|e| NodeError::Transport(format!("API listener: {e}")))?;
    let state = AppState { node: node.clone(), metrics: Arc::new(ApiMetrics::default()) };
    let app = router(state);
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, acceptor, app, stop_rx));
    tracing::info!(party = %node.me(), %addr, https = cfg.tls, "client API listening");
    Ok(ApiHandle { addr, stop, task })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut conns = JoinSet::new();
    loop {
        // Wait for a free slot first, so that excess connections queue in the backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, peer)) => {
                    let (acceptor, app) = (acceptor.clone(), app.clone());
                    conns.spawn(async move {
                        serve_connection(tcp, peer, acceptor, app).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "API accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => break,
        }
        while conns.try_join_next().is_some() {}
    }
    conns.shutdown().await;
}

async fn serve_connection(tcp: TcpStream, peer: SocketAddr, acceptor: Option<tokio_rustls::TlsAcceptor>, app: Router) {
    let _ = tcp.set_nodelay(true);
    match acceptor {
        Some(acceptor) => {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "API TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "API TLS handshake timed out");
                    return;
                }
            };
            let client_cert_sha256 = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| crate::transport::tls::fingerprint(c));
            serve_http(TokioIo::new(stream), ConnInfo { peer, client_cert_sha256 }, app).await;
        }
        None => serve_http(TokioIo::new(tcp), ConnInfo { peer, client_cert_sha256: None }, app).await,
    }
}

async fn serve_http<I>(io: I, info: ConnInfo, app: Router)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(info);
        let mut app = app.clone();
        async move { app.call(req).await }
    });
    // One request per connection (no keep-alive): an idle client holds no connection slot.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(false)
        .serve_connection(io, service);
    if let Err(e) = conn.await {
        tracing::debug!(peer = %info.peer, error = %e, "API connection ended with an error");
    }
}

/// The routes served, as (method, path template) — the path templates are OpenAPI's.
pub fn served_routes() -> Vec<(&'static str, &'static str)> {
    let mut v = public_routes().served;
    v.extend(v1_routes().served);
    v
}

struct Routes {
    router: Router<AppState>,
    served: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn new() -> Self {
        Self { router: Router::new(), served: Vec::new() }
    }

    fn route(mut self, method: &'static str, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handler);
        self.served.push((method, path));
        self
    }
}

fn public_routes() -> Routes {
    Routes::new()
        .route("GET", "/healthz", get(handlers::healthz))
        .route("GET", "/metrics", get(handlers::metrics))
        .route("GET", "/openapi.json", get(handlers::openapi))
}

fn v1_routes() -> Routes {
    Routes::new()
        .route("GET", "/v1/keys", get(handlers::list_keys))
        .route("POST", "/v1/keys", post(handlers::create_key))
        .route("GET", "/v1/keys/{key_id}", get(handlers::get_key))
        .route("POST", "/v1/keys/{key_id}/sign", post(handlers::sign))
        .route("POST", "/v1/keys/{key_id}/refresh", post(handlers::refresh))
        .route("POST", "/v1/keys/{key_id}/reshare", post(handlers::reshare))
        .route("GET", "/v1/keys/{key_id}/presignatures", get(handlers::presignatures))
        .route("GET", "/v1/sessions", get(handlers::list_sessions))
        .route("GET", "/v1/sessions/{session_id}", get(handlers::get_session))
        .route("GET", "/v1/audit", get(handlers::audit))
}

fn router(state: AppState) -> Router {
    let v1 = v1_routes().router.route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    public_routes()
        .router
        .merge(v1)
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "the route does not serve this method")
        })
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The client a request is made for (a request extension of authenticated routes, and a
/// response extension for the log).
#[derive(Clone, Debug)]
struct Client(Caller);

/// Maps the client certificate or the bearer token to a client of the node's policy.
async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    // Every refusal is on the audit record (rate-limited there), without the credential.
    let path: String = req.uri().path().chars().take(128).collect();
    let refuse = |reason: &'static str| {
        st.node.audit_unauthenticated(reason, &path);
        ApiError::unauthenticated(reason).into_response()
    };
    let by_cert = req
        .extensions()
        .get::<ConnInfo>()
        .and_then(|c| c.client_cert_sha256)
        .and_then(|fp| st.node.authenticate_cert(&fp));
    let by_token = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let token = v.to_str().ok().and_then(|s| {
                let (scheme, rest) = s.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
            let Some(token) = token.filter(|t| !t.is_empty()) else {
                return refuse("the Authorization header must be `Bearer <token>`");
            };
            match st.node.authenticate_token(token) {
                Some(c) => Some(c),
                None => return refuse("unknown token"),
            }
        }
    };
    let caller = match (by_cert, by_token) {
        (Some(a), Some(b)) if a != b => return refuse("the client certificate and the token name different clients"),
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => return refuse(
            "no credentials: send `Authorization: Bearer <token>` or a client certificate listed in the node's policy",
        ),
    };
    req.extensions_mut().insert(Client(caller.clone()));
    let mut res = next.run(req).await;
    res.extensions_mut().insert(Client(caller));
    res
}

/// Logs every request (method, route, status, client, duration; never bodies) and counts it.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Bounded label values: a client may send any method or path.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = req.extensions().get::<MatchedPath>().map_or("(unmatched)", |m| m.as_str()).to_owned();
    let peer = req.extensions().get::<ConnInfo>().map(|c| c.peer);
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let client = res.extensions().get::<Client>().map_or_else(|| "-".to_owned(), |c| c.0.name().to_owned());
    let ms = started.elapsed().as_millis() as u64;
    if route == "/metrics" || route == "/healthz" {
        tracing::debug!(%method, %route, status, %client, ms, ?peer, "API request");
    } else {
        tracing::info!(%method, %route, status, %client, ms, ?peer, "API request");
    }
    if let Ok(mut m) = st.metrics.requests.lock() {
        *m.entry((method, route, status)).or_default() += 1;
    }
    res
}

impl ApiMetrics {
    fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::from(
            "# HELP conclave_api_requests_total API requests by method, route and status.\n\
             # TYPE conclave_api_requests_total counter\n",
        );
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "conclave_api_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out
    }
}

/// A JSON response.
fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "response does not serialize");
            let mut r = (StatusCode::INTERNAL_SERVER_ERROR, r#"{"code":"internal","message":"internal error"}"#)
                .into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
    }
}

/// A JSON request body: `application/json`, at most [`MAX_REQUEST_BYTES`], parsed into `T`
/// (which refuses unknown fields); every failure is a JSON error, never a panic.
struct JsonBody<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "the body must be `application/json`"));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, format!("the body exceeds {MAX_REQUEST_BYTES} bytes"))
            } else {
                ApiError::invalid(format!("cannot read the body: {}", e.body_text()))
            }
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::invalid(format!("request body: {e}")))
    }
}
