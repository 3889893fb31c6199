//! The OpenAPI 3.1 document of the API, written by hand (the wire types are few and stable; a
//! derive crate would add a proc-macro dependency for little). A test checks that every route
//! the router serves is described here, and nothing else.

use std::sync::OnceLock;

use serde_json::{json, Value};

/// The document served at `/openapi.json`.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn error_responses(codes: &[u16]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        let description = match c {
            400 => "invalid_request: malformed body, unknown field, wrong data for the key's scheme",
            401 => "unauthenticated: no credentials, or credentials naming no client",
            403 => "forbidden: this node's policy does not allow it",
            404 => "not_found: no such key or session on this node",
            409 => "refused: another node refused (or cancelled) the session; `refused_by` names it",
            413 => "payload_too_large: the body exceeds 2 MiB",
            415 => "unsupported_media_type: the body is not application/json",
            502 => "aborted: the protocol aborted; `culprits` names the parties blamed",
            503 => "busy or shutting_down",
            _ => "internal: the node's fault (no details)",
        };
        m.insert(
            c.to_string(),
            json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    m.insert(
        "500".into(),
        json!({"description": "internal: the node's fault (no details)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
    );
    Value::Object(m)
}

fn ok(status: &str, description: &str, schema: &str) -> Value {
    json!({status: {"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}})
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            a.extend(b);
            Value::Object(a)
        }
        (a, _) => a,
    }
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn key_param() -> Value {
    json!({"name": "key_id", "in": "path", "required": true, "description": "The key id (64 hex characters).", "schema": {"$ref": "#/components/schemas/Hex32"}})
}

const READ_ERRORS: &[u16] = &[400, 401, 403, 404];
const WRITE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 413, 415, 502, 503];

fn build() -> Value {
    let hex = json!({"type": "string", "pattern": "^[0-9a-f]*$", "description": "Bytes as lowercase hex (either case accepted on input)."});
    let hex32 = json!({"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "description": "32 bytes as hex."});
    let parties = json!({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}, "description": "Party indices."});
    let schemes = json!({"type": "string", "enum": ["ecdsa-secp256k1", "ecdsa-p256", "ed25519", "frost-secp256k1", "schnorr-bip340"]});
    let codes: Vec<&str> = conclave_api::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let culprit = json!({
        "type": "object", "required": ["party", "fault"],
        "properties": {
            "party": {"type": "integer"},
            "round": {"type": "integer", "description": "Absent where not recorded (session history)."},
            "fault": {"type": "string", "description": "Stable kebab-case fault name: silent, malformed, invalid-proof, equivocation, …"}
        }
    });
    let key_view = json!({
        "type": "object",
        "required": ["key_id", "scheme", "threshold", "parties", "public_key", "chain_code"],
        "properties": {
            "key_id": {"$ref": "#/components/schemas/Hex32"},
            "scheme": {"$ref": "#/components/schemas/Scheme"},
            "threshold": {"type": "integer"},
            "parties": {"$ref": "#/components/schemas/Parties"},
            "public_key": {"$ref": "#/components/schemas/Hex", "description": "SEC1 compressed (33 bytes), or 32 bytes for Ed25519."},
            "public_key_uncompressed": {"$ref": "#/components/schemas/Hex", "description": "ECDSA keys: SEC1 uncompressed (65 bytes)."},
            "spki_pem": {"type": "string", "description": "ECDSA and Ed25519 keys: SubjectPublicKeyInfo, PEM."},
            "x_only": {"$ref": "#/components/schemas/Hex", "description": "schnorr-bip340 keys: 32-byte x-only key (untweaked)."},
            "chain_code": {"$ref": "#/components/schemas/Hex32"}
        }
    });
    let session_view = json!({
        "type": "object",
        "required": ["session_id", "kind", "client", "proposer", "participants", "state", "started_unix_ms"],
        "properties": {
            "session_id": {"$ref": "#/components/schemas/Hex32"},
            "kind": {"type": "string", "enum": ["keygen", "aux-info", "presign", "sign-ecdsa", "sign-schnorr", "reshare"]},
            "client": {"type": "string"},
            "proposer": {"type": "integer"},
            "participants": {"$ref": "#/components/schemas/Parties"},
            "state": {"type": "string", "enum": ["running", "succeeded", "failed"]},
            "error": {"type": "string"},
            "culprits": {"type": "array", "items": {"$ref": "#/components/schemas/Culprit"}},
            "started_unix_ms": {"type": "integer"},
            "duration_ms": {"type": "integer"},
            "key_id": {"type": "string", "description": "The key a presign or sign session used."},
            "bytes_sent": {"type": "integer", "description": "Finished sessions: protocol payload bytes this node sent (per recipient)."}
        }
    });
    let schemas = json!({
        "Hex": hex,
        "Hex32": hex32,
        "Parties": parties,
        "Scheme": schemes,
        "Culprit": culprit,
        "Error": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": codes},
                "message": {"type": "string"},
                "culprits": {"type": "array", "items": {"$ref": "#/components/schemas/Culprit"}},
                "refused_by": {"type": "integer"}
            }
        },
        "CreateKeyRequest": {
            "type": "object", "additionalProperties": false, "required": ["scheme", "threshold"],
            "properties": {
                "scheme": {"$ref": "#/components/schemas/Scheme"},
                "threshold": {"type": "integer", "minimum": 1},
                "parties": {"$ref": "#/components/schemas/Parties", "description": "Default: every node of the cluster."}
            }
        },
        "KeyView": key_view,
        "KeyList": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"$ref": "#/components/schemas/KeyView"}}}},
        "SignRequest": {
            "type": "object", "additionalProperties": false,
            "description": "ECDSA: `message` with `hash`, or `digest` (interactive); `path` for a non-hardened child key. Schnorr: `message`; `taproot` for schnorr-bip340.",
            "properties": {
                "message": {"$ref": "#/components/schemas/Hex"},
                "hash": {"type": "string", "enum": ["sha256", "keccak256", "double-sha256", "sha256d"], "default": "sha256", "description": "ECDSA messages only."},
                "digest": {"$ref": "#/components/schemas/Hex32"},
                "taproot": {"type": "object", "additionalProperties": false, "properties": {"merkle_root": {"$ref": "#/components/schemas/Hex32"}}},
                "path": {"oneOf": [
                    {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                    {"type": "string", "pattern": "^m(/[0-9]+)*$", "examples": ["m/0/1"]}
                ]},
                "signers": {"$ref": "#/components/schemas/Parties"}
            }
        },
        "SignatureView": {
            "type": "object", "required": ["key_id", "scheme", "signature", "public_key", "signers"],
            "properties": {
                "key_id": {"$ref": "#/components/schemas/Hex32"},
                "scheme": {"$ref": "#/components/schemas/Scheme"},
                "signature": {"$ref": "#/components/schemas/Hex", "description": "ECDSA r‖s (low-S); Schnorr: the scheme's 64 bytes."},
                "der": {"$ref": "#/components/schemas/Hex"},
                "recovery_id": {"type": "integer", "minimum": 0, "maximum": 3},
                "public_key": {"$ref": "#/components/schemas/Hex", "description": "The key the signature verifies under (derived / tweaked)."},
                "digest": {"$ref": "#/components/schemas/Hex32"},
                "signers": {"$ref": "#/components/schemas/Parties"}
            }
        },
        "RefreshRequest": {"type": "object", "additionalProperties": false, "properties": {"with_aux": {"type": "boolean", "default": false}}},
        "ReshareRequest": {
            "type": "object", "additionalProperties": false, "required": ["new_parties", "new_threshold"],
            "properties": {
                "new_parties": {"$ref": "#/components/schemas/Parties"},
                "new_threshold": {"type": "integer", "minimum": 1},
                "old_signers": {"$ref": "#/components/schemas/Parties"}
            }
        },
        "ReshareView": {
            "type": "object", "required": ["old_key_id"],
            "properties": {"old_key_id": {"$ref": "#/components/schemas/Hex32"}, "key": {"$ref": "#/components/schemas/KeyView"}}
        },
        "SessionView": session_view,
        "SessionList": {"type": "object", "required": ["sessions"], "properties": {"sessions": {"type": "array", "items": {"$ref": "#/components/schemas/SessionView"}}}},
        "PresignaturePool": {
            "type": "object", "required": ["key_id", "count", "target"],
            "properties": {"key_id": {"$ref": "#/components/schemas/Hex32"}, "count": {"type": "integer"}, "target": {"type": "integer"}}
        },
        "AuditEntry": {
            "type": "object", "required": ["seq", "unix_ms", "event", "details", "prev_hash", "hash", "signature"],
            "properties": {
                "seq": {"type": "integer"}, "unix_ms": {"type": "integer"}, "event": {"type": "string"},
                "details": {"type": "object", "additionalProperties": {"type": "string"}},
                "prev_hash": {"$ref": "#/components/schemas/Hex32"}, "hash": {"$ref": "#/components/schemas/Hex32"},
                "signature": {"$ref": "#/components/schemas/Hex"}
            }
        },
        "AuditList": {
            "type": "object", "required": ["entries", "next"],
            "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}, "next": {"type": "integer"}}
        }
    });

    let paths = json!({
        "/healthz": {"get": {
            "operationId": "healthz", "summary": "Liveness: 200 `ok`.", "security": [],
            "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }},
        "/metrics": {"get": {
            "operationId": "metrics", "summary": "Prometheus metrics (text exposition format).", "security": [],
            "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }},
        "/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document.", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}
        }},
        "/v1/keys": {
            "get": {
                "operationId": "listKeys", "summary": "Keys this node holds a share of (action `read`).",
                "responses": merge(ok("200", "the keys", "KeyList"), error_responses(READ_ERRORS))
            },
            "post": {
                "operationId": "createKey", "summary": "Generate a key with no dealer (action `keygen`; ECDSA also runs aux-info).",
                "requestBody": body("CreateKeyRequest"),
                "responses": merge(ok("201", "the new key", "KeyView"), error_responses(WRITE_ERRORS))
            }
        },
        "/v1/keys/{key_id}": {"get": {
            "operationId": "getKey", "summary": "One key (action `read`).", "parameters": [key_param()],
            "responses": merge(ok("200", "the key", "KeyView"), error_responses(READ_ERRORS))
        }},
        "/v1/keys/{key_id}/sign": {"post": {
            "operationId": "sign", "summary": "Sign (action `sign`); every signer checks the request against its own policy.",
            "parameters": [key_param()], "requestBody": body("SignRequest"),
            "responses": merge(ok("200", "the signature, verified by the node", "SignatureView"), error_responses(WRITE_ERRORS))
        }},
        "/v1/keys/{key_id}/refresh": {"post": {
            "operationId": "refresh", "summary": "Fresh shares of the same key for the same parties (action `refresh`).",
            "parameters": [key_param()], "requestBody": body("RefreshRequest"),
            "responses": merge(ok("200", "the refreshed key (new key id, same public key)", "ReshareView"), error_responses(WRITE_ERRORS))
        }},
        "/v1/keys/{key_id}/reshare": {"post": {
            "operationId": "reshare", "summary": "Move the key to another group and threshold, same public key (action `reshare`).",
            "parameters": [key_param()], "requestBody": body("ReshareRequest"),
            "responses": merge(ok("200", "the new sharing, if this node is in the new group", "ReshareView"), error_responses(WRITE_ERRORS))
        }},
        "/v1/keys/{key_id}/presignatures": {"get": {
            "operationId": "presignatures", "summary": "The key's presignature pool on this node (action `read`).",
            "parameters": [key_param()],
            "responses": merge(ok("200", "the pool", "PresignaturePool"), error_responses(READ_ERRORS))
        }},
        "/v1/sessions": {"get": {
            "operationId": "listSessions", "summary": "Recent sessions, at most 1024, oldest first (action `read`).",
            "responses": merge(ok("200", "the sessions", "SessionList"), error_responses(READ_ERRORS))
        }},
        "/v1/sessions/{session_id}": {"get": {
            "operationId": "getSession", "summary": "One recent session (action `read`).",
            "parameters": [{"name": "session_id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Hex32"}}],
            "responses": merge(ok("200", "the session", "SessionView"), error_responses(READ_ERRORS))
        }},
        "/v1/audit": {"get": {
            "operationId": "audit", "summary": "The node's audit log from entry `from` (action `read`).",
            "parameters": [
                {"name": "from", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": conclave_api::MAX_AUDIT_LIMIT, "default": 100}}
            ],
            "responses": merge(ok("200", "the entries", "AuditList"), error_responses(READ_ERRORS))
        }}
    });

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Conclave node API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Threshold signing: every request is checked by this node's policy and, for sessions, by every other participant's own policy. Byte strings are lowercase hex. Errors carry a stable `code`.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "servers": [{"url": "https://{node}", "variables": {"node": {"default": "127.0.0.1:8100"}}}],
        "security": [{"bearer": []}, {"clientCertificate": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token whose SHA-256 the node's policy lists."},
                "clientCertificate": {"type": "mutualTLS", "description": "A client certificate whose SHA-256 the node's policy lists."}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use std::collections::BTreeSet;

    use super::*;

    /// Every served route is documented, every documented route is served, and every `$ref`
    /// resolves.
    #[test]
    fn document_matches_the_router() {
        let doc = document();
        let served: BTreeSet<(String, String)> =
            crate::api::served_routes().into_iter().map(|(m, p)| (m.to_lowercase(), p.to_owned())).collect();
        let mut documented = BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        assert_eq!(served, documented);
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(doc, &mut all);
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").expect("local schema ref");
            assert!(doc["components"]["schemas"].get(name).is_some(), "{r} resolves");
        }
    }
}
