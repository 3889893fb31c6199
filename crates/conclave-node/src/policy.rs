//! The node's own policy: which client may do what, with which key, and how often.
//!
//! Every node keeps its own policy file. The node that receives a client's request checks it
//! first; every other node checks the proposal against **its own** policy before it joins, so no
//! node takes part in what its own operators did not allow. The client named in a proposal is
//! the one the proposing node authenticated; a rule can also restrict which nodes may propose
//! for a client (`proposers`).
//!
//! ```toml
//! [[clients]]
//! name = "custody-app"
//! token_sha256 = "…64 hex…"       # SHA-256 of its bearer token (the token itself is never stored)
//!
//! [[clients]]
//! name = "ops"
//! cert_sha256 = "…64 hex…"        # SHA-256 of its TLS client certificate (DER)
//!
//! [[rules]]
//! clients = ["custody-app"]
//! actions = ["sign"]
//! schemes = ["ecdsa-secp256k1"]   # optional: default every scheme
//! keys = ["…key id hex…"]         # optional: default every key
//! hashes = ["keccak256"]          # optional, ECDSA only: hash names, or "digest" for raw digests
//! proposers = [0, 1]              # optional: which nodes may propose for this client
//! rate_per_minute = 60            # optional: at most this many requests per minute (this node)
//!
//! [[rules]]
//! clients = ["ops"]
//! actions = ["keygen", "refresh", "reshare", "read"]
//! ```
//!
//! Actions: `keygen`, `sign`, `refresh`, `reshare`, `read` (list keys, sessions, pool status and
//! the audit log through the API). Requests that match no rule are refused with a reason naming
//! the client and the action. The node's own maintenance (presignatures for its pools, aux-info
//! for a key's party set) is allowed from any cluster node without a rule.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use conclave_keygen::KeyId;
use conclave_protocol::PartyIndex;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::request::Scheme;

/// The name of the node's own maintenance caller.
const NODE_CALLER: &str = "node";

/// Who asked for a session: a client as authenticated by the proposing node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Caller(String);

impl Caller {
    /// A client by its policy name.
    pub fn client(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The node itself (pool refills, aux-info for a key).
    pub fn node() -> Self {
        Self(NODE_CALLER.into())
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Whether this is the node's own maintenance caller.
    pub fn is_node(&self) -> bool {
        self.0 == NODE_CALLER
    }
}

impl core::fmt::Display for Caller {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a request does, as the policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Generate a key.
    Keygen,
    /// Sign.
    Sign,
    /// Refresh a key's shares (same parties and threshold).
    Refresh,
    /// Move a key to another group.
    Reshare,
    /// Read keys, sessions, pool status and the audit log.
    Read,
}

impl Action {
    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "keygen" => Action::Keygen,
            "sign" => Action::Sign,
            "refresh" => Action::Refresh,
            "reshare" => Action::Reshare,
            "read" => Action::Read,
            _ => return None,
        })
    }

    /// The action's name in policy files.
    pub fn name(self) -> &'static str {
        match self {
            Action::Keygen => "keygen",
            Action::Sign => "sign",
            Action::Refresh => "refresh",
            Action::Reshare => "reshare",
            Action::Read => "read",
        }
    }
}

/// A request as the policy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// What it does.
    pub action: Action,
    /// The key's (or new key's) scheme.
    pub scheme: Option<Scheme>,
    /// The key, if the action is on one.
    pub key_id: Option<KeyId>,
    /// ECDSA signing: the hash name, or `digest` for a raw digest.
    pub hash: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    clients: Vec<RawClient>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    token_sha256: Option<String>,
    cert_sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    clients: Vec<String>,
    actions: Vec<String>,
    schemes: Option<Vec<String>>,
    keys: Option<Vec<String>>,
    hashes: Option<Vec<String>>,
    proposers: Option<Vec<u16>>,
    rate_per_minute: Option<u32>,
}

#[derive(Debug, Clone)]
struct Client {
    name: String,
    token_sha256: Option<[u8; 32]>,
    cert_sha256: Option<[u8; 32]>,
}

#[derive(Debug, Clone)]
struct Rule {
    clients: BTreeSet<String>,
    actions: BTreeSet<Action>,
    schemes: Option<BTreeSet<Scheme>>,
    keys: Option<BTreeSet<KeyId>>,
    hashes: Option<BTreeSet<String>>,
    proposers: Option<BTreeSet<PartyIndex>>,
    rate_per_minute: Option<u32>,
}

/// A parsed policy file.
#[derive(Debug)]
pub struct Policy {
    clients: Vec<Client>,
    rules: Vec<Rule>,
    /// Per (rule, client): the times of recent requests, for rate limits.
    recent: Mutex<BTreeMap<(usize, String), VecDeque<Instant>>>,
}

fn hex32(what: &str, s: &str) -> Result<[u8; 32], String> {
    let b = hex::decode(s.trim()).map_err(|_| format!("{what}: expected 64 hex characters"))?;
    b.try_into().map_err(|_| format!("{what}: expected 64 hex characters (32 bytes)"))
}

impl Policy {
    /// A policy with no clients and no rules: only the node's own maintenance is allowed.
    pub fn deny_all() -> Self {
        Self { clients: Vec::new(), rules: Vec::new(), recent: Mutex::new(BTreeMap::new()) }
    }

    /// Parses a policy file; errors name the entry and the field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut clients = Vec::new();
        let mut names = BTreeSet::new();
        for (i, c) in raw.clients.into_iter().enumerate() {
            let at = |f: &str| format!("clients[{i}].{f}");
            if c.name.is_empty() || c.name == NODE_CALLER || c.name == "*" {
                return Err(format!("{}: `{}` is not a usable client name", at("name"), c.name));
            }
            if !names.insert(c.name.clone()) {
                return Err(format!("{}: client `{}` is listed twice", at("name"), c.name));
            }
            let token_sha256 = c.token_sha256.as_deref().map(|t| hex32(&at("token_sha256"), t)).transpose()?;
            let cert_sha256 = c.cert_sha256.as_deref().map(|t| hex32(&at("cert_sha256"), t)).transpose()?;
            if token_sha256.is_none() && cert_sha256.is_none() {
                return Err(format!("clients[{i}]: set token_sha256 or cert_sha256 (or both)"));
            }
            clients.push(Client { name: c.name, token_sha256, cert_sha256 });
        }
        let mut rules = Vec::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            for c in &r.clients {
                if c != "*" && !names.contains(c) {
                    return Err(format!("{}: unknown client `{c}`", at("clients")));
                }
            }
            let mut actions = BTreeSet::new();
            for a in &r.actions {
                actions.insert(Action::from_name(a).ok_or_else(|| format!("{}: unknown action `{a}`", at("actions")))?);
            }
            let schemes = r
                .schemes
                .map(|v| {
                    v.iter()
                        .map(|s| Scheme::from_name(s).ok_or_else(|| format!("{}: unknown scheme `{s}`", at("schemes"))))
                        .collect::<Result<BTreeSet<_>, _>>()
                })
                .transpose()?;
            let keys = r
                .keys
                .map(|v| v.iter().map(|k| hex32(&at("keys"), k).map(KeyId)).collect::<Result<BTreeSet<_>, _>>())
                .transpose()?;
            let hashes = r
                .hashes
                .map(|v| {
                    v.iter()
                        .map(|h| {
                            if h == "digest" || conclave_ecdsa::HashName::from_name(h).is_some() {
                                Ok(h.clone())
                            } else {
                                Err(format!("{}: unknown hash `{h}`", at("hashes")))
                            }
                        })
                        .collect::<Result<BTreeSet<_>, _>>()
                })
                .transpose()?;
            if r.rate_per_minute == Some(0) {
                return Err(format!("{}: must be at least 1 (remove the rule to forbid)", at("rate_per_minute")));
            }
            rules.push(Rule {
                clients: r.clients.into_iter().collect(),
                actions,
                schemes,
                keys,
                hashes,
                proposers: r.proposers.map(|v| v.into_iter().map(PartyIndex).collect()),
                rate_per_minute: r.rate_per_minute,
            });
        }
        Ok(Self { clients, rules, recent: Mutex::new(BTreeMap::new()) })
    }

    /// The client whose bearer token this is (compared in constant time against the stored
    /// hashes).
    pub fn authenticate_token(&self, token: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for c in &self.clients {
            if let Some(h) = &c.token_sha256 {
                if bool::from(h.ct_eq(&digest)) {
                    found = Some(Caller::client(c.name.clone()));
                }
            }
        }
        found
    }

    /// The client whose TLS client certificate has this SHA-256.
    pub fn authenticate_cert(&self, cert_sha256: &[u8; 32]) -> Option<Caller> {
        self.clients
            .iter()
            .find(|c| c.cert_sha256.as_ref().is_some_and(|h| bool::from(h.ct_eq(cert_sha256))))
            .map(|c| Caller::client(c.name.clone()))
    }

    /// Checks `query` by `caller`, proposed by `proposer`; `Err` is the refusal's reason.
    /// A request that passes counts against the matching rule's rate limit.
    pub fn check(&self, caller: &Caller, proposer: PartyIndex, query: &Query) -> Result<(), String> {
        if caller.is_node() {
            return Err("the node's own caller may only run maintenance sessions".into());
        }
        let mut limited = None;
        for (i, rule) in self.rules.iter().enumerate() {
            let matches = (rule.clients.contains("*") || rule.clients.contains(caller.name()))
                && rule.actions.contains(&query.action)
                && rule.schemes.as_ref().is_none_or(|s| query.scheme.is_some_and(|q| s.contains(&q)))
                && rule.keys.as_ref().is_none_or(|k| query.key_id.is_some_and(|q| k.contains(&q)))
                && (query.hash.is_none()
                    || rule.hashes.as_ref().is_none_or(|h| query.hash.as_ref().is_some_and(|q| h.contains(q))))
                && rule.proposers.as_ref().is_none_or(|p| p.contains(&proposer));
            if !matches {
                continue;
            }
            match rule.rate_per_minute {
                None => return Ok(()),
                Some(limit) => {
                    if self.admit(i, caller, limit) {
                        return Ok(());
                    }
                    limited = Some(limit);
                }
            }
        }
        Err(match limited {
            Some(limit) => {
                format!("client `{caller}` is over its rate limit ({limit} per minute) for {}", query.action.name())
            }
            None => {
                let mut what = query.action.name().to_string();
                if let Some(s) = query.scheme {
                    what.push_str(&format!(" ({s})"));
                }
                if let Some(k) = query.key_id {
                    what.push_str(&format!(" with key {k}"));
                }
                if let Some(h) = &query.hash {
                    what.push_str(&format!(" hashing with {h}"));
                }
                format!("no rule of this node's policy allows client `{caller}` to {what} (proposed by {proposer})")
            }
        })
    }

    fn admit(&self, rule: usize, caller: &Caller, limit: u32) -> bool {
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let q = recent.entry((rule, caller.name().to_owned())).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            return false;
        }
        q.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_hash(t: &str) -> String {
        hex::encode(Sha256::digest(t.as_bytes()))
    }

    fn policy() -> Policy {
        Policy::parse(&format!(
            r#"
            [[clients]]
            name = "app"
            token_sha256 = "{}"
            [[clients]]
            name = "ops"
            cert_sha256 = "{}"
            [[rules]]
            clients = ["app"]
            actions = ["sign"]
            schemes = ["ecdsa-secp256k1"]
            hashes = ["keccak256"]
            proposers = [0]
            rate_per_minute = 2
            [[rules]]
            clients = ["ops"]
            actions = ["keygen", "read"]
            "#,
            token_hash("secret-token"),
            hex::encode([7u8; 32])
        ))
        .unwrap()
    }

    fn sign(hash: &str) -> Query {
        Query {
            action: Action::Sign,
            scheme: Some(Scheme::EcdsaSecp256k1),
            key_id: Some(KeyId([1; 32])),
            hash: Some(hash.into()),
        }
    }

    #[test]
    fn authenticates_tokens_and_certificates() {
        let p = policy();
        assert_eq!(p.authenticate_token("secret-token"), Some(Caller::client("app")));
        assert_eq!(p.authenticate_token("secret-tokem"), None);
        assert_eq!(p.authenticate_cert(&[7; 32]), Some(Caller::client("ops")));
        assert_eq!(p.authenticate_cert(&[8; 32]), None);
    }

    #[test]
    fn rules_match_every_field_and_rate_limits_apply() {
        let p = policy();
        let app = Caller::client("app");
        assert!(p.check(&app, PartyIndex(0), &sign("keccak256")).is_ok());
        let e = p.check(&app, PartyIndex(0), &sign("sha256")).unwrap_err();
        assert!(e.contains("app") && e.contains("sha256"), "{e}");
        assert!(p.check(&app, PartyIndex(1), &sign("keccak256")).is_err(), "wrong proposer");
        let mut q = sign("keccak256");
        q.scheme = Some(Scheme::EcdsaP256);
        assert!(p.check(&app, PartyIndex(0), &q).is_err(), "wrong scheme");
        assert!(p.check(&app, PartyIndex(0), &sign("keccak256")).is_ok());
        let e = p.check(&app, PartyIndex(0), &sign("keccak256")).unwrap_err();
        assert!(e.contains("rate limit"), "{e}");
        let keygen = Query { action: Action::Keygen, scheme: Some(Scheme::Ed25519), key_id: None, hash: None };
        assert!(p.check(&Caller::client("ops"), PartyIndex(2), &keygen).is_ok());
        assert!(p.check(&app, PartyIndex(0), &keygen).is_err());
        assert!(p.check(&Caller::node(), PartyIndex(0), &keygen).is_err());
        assert!(Policy::deny_all().check(&Caller::client("ops"), PartyIndex(0), &keygen).is_err());
    }

    #[test]
    fn a_rule_for_some_keys_allows_those_keys_only() {
        let p = Policy::parse(&format!(
            "[[clients]]\nname = \"app\"\ntoken_sha256 = \"{}\"\n[[rules]]\nclients = [\"app\"]\nactions = [\"sign\"]\nkeys = [\"{}\"]\n",
            token_hash("t"),
            hex::encode([1u8; 32])
        ))
        .unwrap();
        let app = Caller::client("app");
        assert!(p.check(&app, PartyIndex(0), &sign("sha256")).is_ok(), "the listed key");
        let mut other = sign("sha256");
        other.key_id = Some(KeyId([2; 32]));
        let e = p.check(&app, PartyIndex(0), &other).unwrap_err();
        assert!(e.contains("app") && e.contains("sign"), "{e}");
    }

    #[test]
    fn bad_files_are_refused_with_the_field_named() {
        for (text, needle) in [
            ("[[rules]]\nclients=[\"x\"]\nactions=[\"sign\"]", "unknown client"),
            ("[[clients]]\nname=\"a\"\ntoken_sha256=\"zz\"", "clients[0].token_sha256"),
            ("[[clients]]\nname=\"node\"\ntoken_sha256=\"00\"", "not a usable client name"),
            ("[[clients]]\nname=\"a\"", "set token_sha256 or cert_sha256"),
            ("[[rules]]\nclients=[\"*\"]\nactions=[\"fly\"]", "unknown action"),
            ("[[rules]]\nclients=[\"*\"]\nactions=[\"sign\"]\nhashes=[\"md5\"]", "unknown hash"),
            ("bogus = 1", "unknown field"),
        ] {
            let e = Policy::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
