//! The result of key generation.

use core::fmt;
use std::collections::BTreeMap;

use conclave_math::{Curve, SecretScalar, Transcript};
use conclave_protocol::{PartyIndex, PartySet};

/// A key's identifier: a digest of its curve, threshold, parties, public key, every public
/// share and the chain code. Equal on every party holding the key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 32]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Everything public about a threshold key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyShare<C: Curve> {
    /// The key id.
    pub key_id: KeyId,
    /// Any `threshold` parties can sign.
    pub threshold: u16,
    /// The parties holding shares.
    pub parties: PartySet,
    /// `X_j = x_j·G` for every party `j`.
    pub public_shares: BTreeMap<PartyIndex, C::Point>,
    /// The group public key `Y`.
    pub public_key: C::Point,
    /// The BIP-32 chain code, fixed at key generation from every party's randomness.
    pub chain_code: [u8; 32],
}

impl<C: Curve> PublicKeyShare<C> {
    pub(crate) fn compute_key_id(
        threshold: u16,
        parties: &PartySet,
        public_shares: &BTreeMap<PartyIndex, C::Point>,
        public_key: &C::Point,
        chain_code: &[u8; 32],
    ) -> KeyId {
        let mut t = Transcript::new("conclave/key-id/v1");
        t.append_u64("curve", u64::from(C::ID.tag()));
        t.append_u64("threshold", u64::from(threshold));
        let idx: Vec<u8> = parties.iter().flat_map(|p| p.0.to_be_bytes()).collect();
        t.append_bytes("parties", &idx);
        let shares: Vec<C::Point> = public_shares.values().copied().collect();
        t.append_points::<C>("public shares", &shares);
        t.append_point::<C>("public key", public_key);
        t.append_bytes("chain code", chain_code);
        KeyId(t.digest("key id"))
    }
}

/// One party's share of a threshold key. Not `Clone`, not serializable in clear; `Debug`
/// shows public data only.
pub struct KeyShare<C: Curve> {
    public: PublicKeyShare<C>,
    me: PartyIndex,
    secret_share: SecretScalar<C>,
}

impl<C: Curve> KeyShare<C> {
    pub(crate) fn new(public: PublicKeyShare<C>, me: PartyIndex, secret_share: SecretScalar<C>) -> Self {
        Self { public, me, secret_share }
    }

    /// The public part.
    pub fn public(&self) -> &PublicKeyShare<C> {
        &self.public
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.public.key_id
    }

    /// Our party index.
    pub fn me(&self) -> PartyIndex {
        self.me
    }

    /// The group public key.
    pub fn public_key(&self) -> C::Point {
        self.public.public_key
    }

    /// The threshold.
    pub fn threshold(&self) -> u16 {
        self.public.threshold
    }

    /// Our secret share `x_i` (Shamir share at `x = i + 1`).
    pub fn expose_secret_share(&self) -> &SecretScalar<C> {
        &self.secret_share
    }
}

impl<C: Curve> fmt::Debug for KeyShare<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("curve", &C::ID)
            .field("key_id", &self.public.key_id)
            .field("me", &self.me)
            .field("threshold", &self.public.threshold)
            .field("parties", &self.public.parties)
            .field("secret_share", &self.secret_share)
            .finish_non_exhaustive()
    }
}
