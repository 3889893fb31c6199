//! Non-hardened hierarchical derivation from the group public key and the chain code fixed at
//! key generation: BIP-32 `CKDpub` for secp256k1, SLIP-10 for P-256.
//!
//! A threshold key can only be derived publicly (no party holds the parent private key), so
//! hardened indices are refused. Derivation yields an additive `shift` with
//! `child = parent + shift·G`; signing with a derived key adds the shift to the key inside the
//! protocol. The path is fixed before presigning (SECURITY.md item 18).

use core::fmt;
use core::str::FromStr;

use conclave_math::{Curve, CurveId, Secp256k1, P256};
use ff::{Field, PrimeField};
use group::Group;
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// The first hardened index.
pub const HARDENED: u32 = 1 << 31;
/// The longest path accepted.
pub const MAX_DEPTH: usize = 255;

/// Why a path could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HdError {
    /// The path text is not of the form `m/0/1/…`.
    #[error("invalid derivation path: {0}")]
    Syntax(String),
    /// A hardened index: impossible for a key no party holds whole.
    #[error("hardened index {0}' cannot be derived from a threshold key")]
    Hardened(u32),
    /// More than [`MAX_DEPTH`] levels.
    #[error("derivation path longer than {MAX_DEPTH}")]
    TooDeep,
    /// BIP-32: this index gives an invalid key (probability < 2^-127); use the next index.
    #[error("index {0} gives an invalid child key; use the next index")]
    InvalidChild(u32),
    /// Ed25519 has no public derivation here.
    #[error("no public derivation for {0}")]
    UnsupportedCurve(CurveId),
}

/// A non-hardened derivation path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DerivationPath(Vec<u32>);

impl DerivationPath {
    /// The empty path (the key itself).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path from indices; every index must be below 2^31.
    pub fn new(indices: Vec<u32>) -> Result<Self, HdError> {
        if indices.len() > MAX_DEPTH {
            return Err(HdError::TooDeep);
        }
        if let Some(i) = indices.iter().find(|i| **i >= HARDENED) {
            return Err(HdError::Hardened(i - HARDENED));
        }
        Ok(Self(indices))
    }

    /// The indices.
    pub fn indices(&self) -> &[u32] {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for DerivationPath {
    type Err = HdError;

    fn from_str(s: &str) -> Result<Self, HdError> {
        let mut parts = s.split('/');
        if parts.next() != Some("m") {
            return Err(HdError::Syntax(format!("{s:?} does not start with \"m\"")));
        }
        let mut indices = Vec::new();
        for p in parts {
            if let Some(h) = p.strip_suffix('\'').or_else(|| p.strip_suffix('h')) {
                let i: u32 = h.parse().map_err(|_| HdError::Syntax(format!("bad index {p:?}")))?;
                return Err(HdError::Hardened(i));
            }
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HdError::Syntax(format!("bad index {p:?}")));
            }
            indices.push(p.parse().map_err(|_| HdError::Syntax(format!("bad index {p:?}")))?);
        }
        Self::new(indices)
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for i in &self.0 {
            write!(f, "/{i}")?;
        }
        Ok(())
    }
}

/// The result of deriving along a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived<C: Curve> {
    /// `parent + shift·G`.
    pub public_key: C::Point,
    /// The child chain code.
    pub chain_code: [u8; 32],
    /// The sum of every level's `IL`.
    pub shift: C::Scalar,
}

/// Curves with public derivation.
pub trait HdCurve: Curve {
    /// SLIP-10's rule: retry with `0x01 ‖ IR ‖ i` when `IL ≥ n` or the child is the identity.
    /// (BIP-32 for secp256k1 instead declares the index invalid.)
    const RETRY: bool;
}

impl HdCurve for Secp256k1 {
    const RETRY: bool = false;
}

impl HdCurve for P256 {
    const RETRY: bool = true;
}

fn hmac512(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 64] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match <Hmac<Sha512> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0u8; 64],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A child key, its chain code and the step's `IL`.
type Child<C> = (<C as Curve>::Point, [u8; 32], <C as Curve>::Scalar);

/// One `CKDpub` step.
fn child<C: HdCurve>(parent: &C::Point, chain_code: &[u8; 32], index: u32) -> Result<Child<C>, HdError> {
    if index >= HARDENED {
        return Err(HdError::Hardened(index - HARDENED));
    }
    let ser_p = C::encode_point(parent);
    let mut i = hmac512(chain_code, &[&ser_p, &index.to_be_bytes()]);
    loop {
        let (il, ir) = i.split_at(32);
        let mut il_repr = <C::Scalar as PrimeField>::Repr::default();
        il_repr.as_mut().copy_from_slice(il);
        let il_scalar: Option<C::Scalar> = C::Scalar::from_repr(il_repr).into();
        let mut cc = [0u8; 32];
        cc.copy_from_slice(ir);
        if let Some(shift) = il_scalar {
            let point = *parent + C::mul_base(&shift);
            if !bool::from(point.is_identity()) {
                return Ok((point, cc, shift));
            }
        }
        if !C::RETRY {
            return Err(HdError::InvalidChild(index));
        }
        i = hmac512(chain_code, &[&[1u8], ir, &index.to_be_bytes()]);
    }
}

/// Derives along `path` from `(public_key, chain_code)`.
pub fn derive<C: HdCurve>(
    public_key: &C::Point,
    chain_code: &[u8; 32],
    path: &DerivationPath,
) -> Result<Derived<C>, HdError> {
    let mut point = *public_key;
    let mut cc = *chain_code;
    let mut shift = C::Scalar::ZERO;
    for &index in path.indices() {
        let (p, c, s) = child::<C>(&point, &cc, index)?;
        point = p;
        cc = c;
        shift += s;
    }
    Ok(Derived { public_key: point, chain_code: cc, shift })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_refuse_hardened() {
        let p: DerivationPath = "m/0/1/2147483647".parse().unwrap();
        assert_eq!(p.indices(), &[0, 1, HARDENED - 1]);
        assert_eq!(p.to_string(), "m/0/1/2147483647");
        assert_eq!("m".parse::<DerivationPath>().unwrap(), DerivationPath::root());
        assert_eq!("m/0'".parse::<DerivationPath>(), Err(HdError::Hardened(0)));
        assert_eq!("m/44h".parse::<DerivationPath>(), Err(HdError::Hardened(44)));
        assert!(matches!("m/2147483648".parse::<DerivationPath>(), Err(HdError::Hardened(0))));
        for bad in ["", "0/1", "m/", "m//1", "m/x", "m/-1", "m/+1", "m/99999999999"] {
            assert!(matches!(bad.parse::<DerivationPath>(), Err(HdError::Syntax(_))), "{bad}");
        }
    }
}
