//! The node's master key: 32 secret bytes, never stored in the store file.

use core::fmt;
use std::path::Path;

use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::StoreError;

/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// The 32-byte master key from which the store's record key is derived (HKDF-SHA256 with the
/// store's salt).
///
/// Zeroized on drop; `Debug` prints `MasterKey(<redacted>)`; not `Clone`. The only door out is
/// [`MasterKey::to_hex`] (for writing a freshly generated key to its file), and every error
/// of the constructors names where the key came from, never what it contains.
pub struct MasterKey([u8; MASTER_KEY_LEN]);

impl MasterKey {
    /// A fresh uniformly random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut key = Self([0u8; MASTER_KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// Parses 64 hexadecimal digits (either case); surrounding whitespace (such as the final
    /// newline of a key file) is ignored.
    pub fn from_hex(s: &str) -> Result<Self, StoreError> {
        parse_hex(s.as_bytes()).map_err(|reason| StoreError::InvalidMasterKey { reason })
    }

    /// Reads the key from a file holding its hex encoding (see [`MasterKey::from_hex`]).
    ///
    /// The error names the path, never the file's content.
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| StoreError::MasterKeyFile { path: path.to_path_buf(), reason: io_reason(&e) })?,
        );
        parse_hex(&bytes)
            .map_err(|reason| StoreError::MasterKeyFile { path: path.to_path_buf(), reason: reason.to_owned() })
    }

    /// Reads the key from the environment variable `var` holding its hex encoding.
    ///
    /// The error names the variable, never its value.
    pub fn from_env(var: &str) -> Result<Self, StoreError> {
        let value = match std::env::var_os(var) {
            Some(v) => Zeroizing::new(v.into_encoded_bytes()),
            None => return Err(StoreError::MasterKeyEnv { var: var.to_owned(), reason: "not set" }),
        };
        parse_hex(&value).map_err(|reason| StoreError::MasterKeyEnv { var: var.to_owned(), reason })
    }

    /// The key as 64 lower-case hex digits, in a buffer zeroized on drop.
    pub fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = Zeroizing::new(String::with_capacity(2 * MASTER_KEY_LEN));
        for b in self.0 {
            for nibble in [b >> 4, b & 0x0f] {
                let c = DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
                out.push(char::from(c));
            }
        }
        out
    }

    /// The raw key (for the key derivation only).
    pub(crate) fn expose_secret(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl Zeroize for MasterKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for MasterKey {}

/// A description of an I/O failure that cannot contain the file's content.
fn io_reason(e: &std::io::Error) -> String {
    e.to_string()
}

/// The value of one hex digit, without branching on which digit it is beyond the range test.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses 64 hex digits with optional surrounding ASCII whitespace. The error is a static
/// description: never the offending character or its position.
fn parse_hex(input: &[u8]) -> Result<MasterKey, &'static str> {
    let trimmed = input.trim_ascii();
    if trimmed.len() != 2 * MASTER_KEY_LEN {
        return Err("expected exactly 64 hexadecimal digits");
    }
    let mut key = MasterKey([0u8; MASTER_KEY_LEN]);
    let mut valid = true;
    for (out, pair) in key.0.iter_mut().zip(trimmed.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (hex_value(*hi), hex_value(*lo)),
            _ => (None, None),
        };
        match (hi, lo) {
            (Some(hi), Some(lo)) => *out = (hi << 4) | lo,
            _ => valid = false,
        }
    }
    if valid {
        Ok(key)
    } else {
        Err("not a hexadecimal string")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_whitespace() {
        let k = MasterKey([0xa5; 32]);
        let hex = k.to_hex();
        assert_eq!(hex.as_str(), "a5".repeat(32));
        let again = MasterKey::from_hex(&format!("  {}\n", hex.as_str())).unwrap();
        assert_eq!(again.0, k.0);
        let upper = MasterKey::from_hex(&hex.to_uppercase()).unwrap();
        assert_eq!(upper.0, k.0);
    }

    #[test]
    fn bad_hex_is_refused_without_echo() {
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(63), &"0".repeat(65), &format!("{}zz", "0".repeat(62))] {
            let e = MasterKey::from_hex(bad).unwrap_err();
            assert!(matches!(e, StoreError::InvalidMasterKey { .. }), "{e:?}");
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("zz") && !shown.contains("ggg"), "{shown}");
        }
    }
}
