//! Auxiliary information of a signing group: every party's Paillier encryption key and
//! ring-Pedersen parameters, and our own Paillier decryption key.
//!
//! Produced by the aux-info protocol (Π^mod, Π^fac, Π^prm checked for every other party), or
//! for tests by a trusted set-up from fixture primes. Reusable across the keys of a party set.

use std::collections::BTreeMap;

use conclave_paillier::{DecryptionKey, EncryptionKey, RingPedersenParams, MIN_MODULUS_BITS};
use conclave_protocol::PartyIndex;

/// One party's public auxiliary data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyAux {
    /// The party's Paillier encryption key `N_j`.
    pub ek: EncryptionKey,
    /// The party's ring-Pedersen parameters `(N̂_j, s_j, t_j)`, used by others' range proofs
    /// addressed to it.
    pub rp: RingPedersenParams,
}

/// Why auxiliary data is unusable (the caller's mistake, or a corrupt store).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuxError {
    /// Our own entry is missing or does not match our decryption key.
    #[error("our own auxiliary entry does not match our Paillier key")]
    OwnEntryMismatch,
    /// A modulus below the security floor.
    #[error("{party}: modulus of {bits} bits is below {MIN_MODULUS_BITS}")]
    ModulusTooSmall {
        /// Whose.
        party: PartyIndex,
        /// Its size.
        bits: u32,
    },
}

/// Our Paillier decryption key and every party's public auxiliary data.
#[derive(Debug)]
pub struct AuxInfo {
    me: PartyIndex,
    dk: DecryptionKey,
    parties: BTreeMap<PartyIndex, PartyAux>,
}

impl AuxInfo {
    /// Bundles validated auxiliary data.
    pub fn new(me: PartyIndex, dk: DecryptionKey, parties: BTreeMap<PartyIndex, PartyAux>) -> Result<Self, AuxError> {
        if parties.get(&me).map(|a| &a.ek) != Some(dk.encryption_key()) {
            return Err(AuxError::OwnEntryMismatch);
        }
        for (p, a) in &parties {
            for bits in [a.ek.bits(), a.rp.modulus().significant_bits()] {
                if bits < MIN_MODULUS_BITS {
                    return Err(AuxError::ModulusTooSmall { party: *p, bits });
                }
            }
        }
        Ok(Self { me, dk, parties })
    }

    /// Our index.
    pub fn me(&self) -> PartyIndex {
        self.me
    }

    /// Our decryption key.
    pub fn decryption_key(&self) -> &DecryptionKey {
        &self.dk
    }

    /// A party's public data.
    pub fn party(&self, p: PartyIndex) -> Option<&PartyAux> {
        self.parties.get(&p)
    }

    /// Our own public data.
    pub fn own(&self) -> Option<&PartyAux> {
        self.parties.get(&self.me)
    }

    /// Every party's public data.
    pub fn parties(&self) -> &BTreeMap<PartyIndex, PartyAux> {
        &self.parties
    }
}
