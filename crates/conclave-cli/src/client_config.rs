//! `client.toml`: how a client reaches the nodes of a cluster (written by `conclave init`).
//!
//! ```toml
//! token = "…"                # bearer token (optional: a client certificate may be used instead)
//!
//! [[nodes]]                  # one entry per node the client may talk to
//! index = 0
//! url = "https://127.0.0.1:8100"
//! cert_sha256 = "…64 hex…"   # SHA-256 of the node's TLS certificate (DER), pinned
//! ```
//!
//! The file is read strictly: an unknown field, a missing one, a duplicate index or a malformed
//! pin is an error naming the line. The token is never printed, not even in an error.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// A bearer token; its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The token itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl core::str::FromStr for Token {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("the token is empty".into());
        }
        Ok(Token(s.to_owned()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    index: u16,
    url: String,
    cert_sha256: String,
}

/// One node of the cluster, as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEntry {
    /// The node's party index.
    pub index: u16,
    /// Its API, `https://host:port`.
    pub url: String,
    /// SHA-256 of its TLS certificate.
    pub cert_sha256: [u8; 32],
}

/// A parsed `client.toml`.
#[derive(Clone, Debug)]
pub struct ClientFile {
    /// The bearer token, if the file has one.
    pub token: Option<Token>,
    /// The nodes, in file order.
    pub nodes: Vec<NodeEntry>,
}

impl ClientFile {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("client configuration {}", path.display()))
    }

    /// Parses the text of a `client.toml`.
    pub fn parse(text: &str) -> Result<Self> {
        let raw: RawFile = toml::from_str(text).map_err(|e| anyhow::anyhow!(describe(text, &e)))?;
        let token = match raw.token {
            Some(t) if t.trim().is_empty() => bail!("`token` is empty"),
            Some(t) => Some(Token(t)),
            None => None,
        };
        if raw.nodes.is_empty() {
            bail!("no [[nodes]] entry: the file must list at least one node (index, url, cert_sha256)");
        }
        let mut nodes: Vec<NodeEntry> = Vec::with_capacity(raw.nodes.len());
        for n in raw.nodes {
            if nodes.iter().any(|m| m.index == n.index) {
                bail!("node index {} is listed twice", n.index);
            }
            if !(n.url.starts_with("https://") || n.url.starts_with("http://")) {
                bail!(
                    "node {}: url `{}` must start with https:// (or http:// for a plain loopback API)",
                    n.index,
                    n.url
                );
            }
            let pin = hex::decode(n.cert_sha256.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .with_context(|| format!("node {}: cert_sha256 must be 64 hex characters", n.index))?;
            nodes.push(NodeEntry { index: n.index, url: n.url, cert_sha256: pin });
        }
        Ok(ClientFile { token, nodes })
    }

    /// The node with party index `index`, or the first node listed.
    pub fn node(&self, index: Option<u16>) -> Result<&NodeEntry> {
        match index {
            None => self.nodes.first().context("no node listed"),
            Some(i) => self.nodes.iter().find(|n| n.index == i).with_context(|| {
                let known: Vec<String> = self.nodes.iter().map(|n| n.index.to_string()).collect();
                format!("--node-index {i}: no such node in the file (it lists {})", known.join(", "))
            }),
        }
    }
}

/// A TOML error as `line L, column C: message`, without the source excerpt (which could show
/// the token).
fn describe(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return e.message().to_owned();
    };
    let before = text.get(..span.start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("").trim_start();
    if line_text.starts_with("token") {
        return format!("line {line}: `token` must be a string (value not shown)");
    }
    format!("line {line}, column {column}: {}", e.message())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const PIN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn file(extra_top: &str, extra_node: &str) -> String {
        format!(
            "token = \"s3cret-token\"\n{extra_top}\n[[nodes]]\nindex = 0\nurl = \"https://127.0.0.1:8100\"\ncert_sha256 = \"{PIN}\"\n{extra_node}\n\
             [[nodes]]\nindex = 2\nurl = \"https://127.0.0.1:8102\"\ncert_sha256 = \"{PIN}\"\n"
        )
    }

    #[test]
    fn reads_what_init_writes_and_picks_nodes() {
        let f = ClientFile::parse(&file("", "")).unwrap();
        assert_eq!(f.token.as_ref().unwrap().expose(), "s3cret-token");
        assert_eq!(f.node(None).unwrap().index, 0);
        assert_eq!(f.node(Some(2)).unwrap().url, "https://127.0.0.1:8102");
        let e = f.node(Some(1)).unwrap_err().to_string();
        assert!(e.contains("--node-index 1") && e.contains("0, 2"), "{e}");
        assert!(!format!("{f:?}").contains("s3cret"), "Debug never shows the token");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_clear_errors() {
        let e = ClientFile::parse(&file("colour = \"red\"", "")).unwrap_err().to_string();
        assert!(e.contains("unknown field `colour`") && e.contains("line 2"), "{e}");
        let e = ClientFile::parse(&file("", "port = 1")).unwrap_err().to_string();
        assert!(e.contains("unknown field `port`"), "{e}");
        let e = ClientFile::parse(&file("", "").replacen(PIN, "abcd", 1)).unwrap_err();
        assert!(format!("{e:#}").contains("cert_sha256 must be 64 hex"), "{e:#}");
        let e = ClientFile::parse(&file("", "").replace("index = 2", "index = 0")).unwrap_err().to_string();
        assert!(e.contains("listed twice"), "{e}");
        let e = ClientFile::parse("token = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("no [[nodes]]"), "{e}");
        let e = ClientFile::parse(&file("", "").replace("https://127.0.0.1:8100", "ftp://x")).unwrap_err().to_string();
        assert!(e.contains("must start with https://"), "{e}");
        let e = ClientFile::parse(&file("", "").replace("index = 2\n", "")).unwrap_err().to_string();
        assert!(e.contains("missing field `index`"), "{e}");
    }

    #[test]
    fn errors_never_show_the_token() {
        let text = "token = s3cret-unquoted\n";
        let e = ClientFile::parse(text).unwrap_err().to_string();
        assert!(!e.contains("s3cret"), "{e}");
        let text = file("", "").replace("token = \"s3cret-token\"", "token = 12345678");
        let e = ClientFile::parse(&text).unwrap_err().to_string();
        assert!(!e.contains("12345678") && e.contains("token"), "{e}");
    }
}
