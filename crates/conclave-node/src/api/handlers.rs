//! The route handlers.

use std::future::Future;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use conclave_api as w;
use serde::Deserialize;

use super::convert::{self, key_view, session_view, signature_view};
use super::error::ApiError;
use super::{json_response, AppState, Client, JsonBody};
use crate::error::NodeError;
use crate::{Caller, KeyInfo, Node, SignData};

type ApiResult = Result<Response, ApiError>;

fn ok<T: serde::Serialize>(body: &T) -> ApiResult {
    Ok(json_response(StatusCode::OK, body))
}

fn path_value(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(v)| v).map_err(|e| ApiError::invalid(e.body_text()))
}

/// Runs a node operation in its own task, so that a client that goes away does not cut the
/// session short on this node.
async fn detached<T, F>(node: &Arc<Node>, f: impl FnOnce(Arc<Node>) -> F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, NodeError>> + Send + 'static,
{
    let task = tokio::spawn(f(node.clone()));
    match task.await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(&format!("operation task: {e}"))),
    }
}

fn known_key(node: &Node, key_id: &str) -> Result<KeyInfo, ApiError> {
    let id = convert::key_id(key_id)?;
    node.key(&id).ok_or_else(|| ApiError::not_found(format!("this node holds no share of key {id}")))
}

/// The key a client wants to act on (sign, refresh, reshare). A client without read access
/// learns nothing about which keys exist: for an unknown key it gets the same refusal as for a
/// key it may not use, not a 404.
fn key_to_act_on(node: &Node, caller: &Caller, key_id: &str) -> Result<KeyInfo, ApiError> {
    known_key(node, key_id).map_err(|not_found| match node.check_read(caller) {
        Ok(()) => not_found,
        Err(refused) => ApiError::from(refused),
    })
}

pub(super) async fn healthz() -> Response {
    let mut r = (StatusCode::OK, "ok\n").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

pub(super) async fn metrics(State(st): State<AppState>) -> Response {
    let mut text = st.node.metrics_text();
    text.push_str(&st.metrics.text());
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r
}

pub(super) async fn openapi() -> Response {
    json_response(StatusCode::OK, super::openapi::document())
}

pub(super) async fn create_key(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    JsonBody(req): JsonBody<w::CreateKeyRequest>,
) -> ApiResult {
    let scheme = convert::scheme_from_wire(req.scheme)?;
    let parties = req.parties.as_deref().map(|p| convert::party_set("parties", p)).transpose()?;
    tracing::info!(client = %caller, %scheme, threshold = req.threshold, "API: key generation requested");
    let threshold = req.threshold;
    let key =
        detached(&st.node, move |node| async move { node.keygen(&caller, scheme, threshold, parties).await }).await?;
    tracing::info!(key = %key.key_id, %scheme, "API: key generated");
    Ok(json_response(StatusCode::CREATED, &key_view(&key)))
}

pub(super) async fn list_keys(State(st): State<AppState>, Extension(Client(caller)): Extension<Client>) -> ApiResult {
    st.node.check_read(&caller)?;
    ok(&w::KeyList { keys: st.node.keys().iter().map(key_view).collect() })
}

pub(super) async fn get_key(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    key_id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    st.node.check_read(&caller)?;
    ok(&key_view(&known_key(&st.node, &path_value(key_id)?)?))
}

/// Turns a sign request into what the node signs, checking it against the key's scheme.
fn sign_data(key: &KeyInfo, req: &w::SignRequest) -> Result<(SignData, Vec<u32>), ApiError> {
    let path = match &req.path {
        Some(p) => p.indices().map_err(ApiError::invalid)?,
        None => Vec::new(),
    };
    if key.scheme.is_ecdsa() {
        if req.taproot.is_some() {
            return Err(ApiError::invalid("`taproot` is for schnorr-bip340 keys"));
        }
        let data = match (&req.message, &req.digest) {
            (Some(m), None) => {
                let hash = req.hash.unwrap_or(w::HashAlg::Sha256);
                SignData::Message { hash: convert::hash_from_wire(hash)?, message: m.0.clone() }
            }
            (None, Some(d)) => {
                if req.hash.is_some() {
                    return Err(ApiError::invalid("`hash` goes with `message`, not with `digest`"));
                }
                let d = d.to_array::<32>().ok_or_else(|| ApiError::invalid("`digest` must be 32 bytes"))?;
                SignData::Digest(d)
            }
            _ => {
                return Err(ApiError::invalid("an ECDSA key signs exactly one of `message` (with `hash`) or `digest`"))
            }
        };
        Ok((data, path))
    } else {
        if req.digest.is_some() || req.hash.is_some() {
            return Err(ApiError::invalid(format!("a {} key signs a `message` (no `hash`, no `digest`)", key.scheme)));
        }
        if !path.is_empty() {
            return Err(ApiError::invalid("derivation paths are for ECDSA keys"));
        }
        let message = req.message.as_ref().ok_or_else(|| ApiError::invalid("`message` is required"))?.0.clone();
        let taproot = match &req.taproot {
            None => None,
            Some(t) => Some(
                t.merkle_root
                    .as_ref()
                    .map(|r| {
                        r.to_array::<32>().ok_or_else(|| ApiError::invalid("`taproot.merkle_root` must be 32 bytes"))
                    })
                    .transpose()?,
            ),
        };
        Ok((SignData::Schnorr { message, taproot }, path))
    }
}

pub(super) async fn sign(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    key_id: Result<Path<String>, PathRejection>,
    JsonBody(req): JsonBody<w::SignRequest>,
) -> ApiResult {
    let key = key_to_act_on(&st.node, &caller, &path_value(key_id)?)?;
    let (data, path) = sign_data(&key, &req)?;
    let signers = req.signers.as_deref().map(|s| convert::party_set("signers", s)).transpose()?;
    tracing::info!(client = %caller, key = %key.key_id, scheme = %key.scheme, "API: signature requested");
    let key_id = key.key_id;
    let sig =
        detached(&st.node, move |node| async move { node.sign(&caller, &key_id, data, &path, signers).await }).await?;
    tracing::info!(key = %key_id, signers = ?sig.signers.to_u16s(), "API: signature released");
    ok(&signature_view(&sig))
}

pub(super) async fn refresh(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    key_id: Result<Path<String>, PathRejection>,
    JsonBody(req): JsonBody<w::RefreshRequest>,
) -> ApiResult {
    let key = key_to_act_on(&st.node, &caller, &path_value(key_id)?)?;
    tracing::info!(client = %caller, key = %key.key_id, with_aux = req.with_aux, "API: refresh requested");
    let key_id = key.key_id;
    let new = detached(&st.node, move |node| async move { node.refresh(&caller, &key_id, req.with_aux).await }).await?;
    tracing::info!(old_key = %key_id, key = %new.key_id, "API: key refreshed");
    ok(&w::ReshareView { old_key_id: w::Hex::from(key_id.0), key: Some(key_view(&new)) })
}

pub(super) async fn reshare(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    key_id: Result<Path<String>, PathRejection>,
    JsonBody(req): JsonBody<w::ReshareRequest>,
) -> ApiResult {
    let key = key_to_act_on(&st.node, &caller, &path_value(key_id)?)?;
    let new_parties = convert::party_set("new_parties", &req.new_parties)?;
    let old_signers = req.old_signers.as_deref().map(|s| convert::party_set("old_signers", s)).transpose()?;
    tracing::info!(
        client = %caller, key = %key.key_id, new_parties = ?req.new_parties, new_threshold = req.new_threshold,
        "API: reshare requested"
    );
    let key_id = key.key_id;
    let t = req.new_threshold;
    let new =
        detached(
            &st.node,
            move |node| async move { node.reshare(&caller, &key_id, new_parties, t, old_signers).await },
        )
        .await?;
    tracing::info!(old_key = %key_id, key = ?new.as_ref().map(|k| k.key_id), "API: key reshared");
    ok(&w::ReshareView { old_key_id: w::Hex::from(key_id.0), key: new.as_ref().map(key_view) })
}

pub(super) async fn presignatures(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    key_id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    st.node.check_read(&caller)?;
    let key = known_key(&st.node, &path_value(key_id)?)?;
    let count = st.node.presignatures(&key.key_id)? as u64;
    let target = if key.scheme.is_ecdsa() { st.node.presign_pool_target() as u64 } else { 0 };
    ok(&w::PresignaturePool { key_id: w::Hex::from(key.key_id.0), count, target })
}

pub(super) async fn list_sessions(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
) -> ApiResult {
    st.node.check_read(&caller)?;
    ok(&w::SessionList { sessions: st.node.sessions().iter().map(session_view).collect() })
}

pub(super) async fn get_session(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    st.node.check_read(&caller)?;
    let id = convert::session_id(&path_value(id)?)?;
    let s = st.node.session(&id).ok_or_else(|| ApiError::not_found(format!("no recent session {id}")))?;
    ok(&session_view(&s))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    from: Option<u64>,
    limit: Option<usize>,
}

/// `limit` when none is given.
const DEFAULT_AUDIT_LIMIT: usize = 100;

pub(super) async fn audit(
    State(st): State<AppState>,
    Extension(Client(caller)): Extension<Client>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = q.map_err(|e| ApiError::invalid(e.body_text()))?;
    st.node.check_read(&caller)?;
    let from = q.from.unwrap_or(1).max(1);
    let limit = q.limit.unwrap_or(DEFAULT_AUDIT_LIMIT);
    if limit == 0 || limit > w::MAX_AUDIT_LIMIT {
        return Err(ApiError::invalid(format!("`limit` must be between 1 and {}", w::MAX_AUDIT_LIMIT)));
    }
    let entries = st.node.audit(from, limit)?;
    let next = entries.last().map_or(from, |e| e.seq.saturating_add(1));
    ok(&w::AuditList { entries: entries.iter().map(convert::audit_view).collect(), next })
}
