//! The Fiat–Shamir transcript: typed, length-prefixed and domain-separated.
//!
//! Every item absorbed is encoded as
//!
//! ```text
//! tag (1 byte) ‖ len(label) (u32) ‖ label ‖ len(value) (u64) ‖ value
//! ```
//!
//! so no two different sequences of items hash the same input (SECURITY.md item 7): there is no
//! delimiter to forge, no minimal-length integer to shift, and the kind of each item (bytes,
//! integer, point of a named curve, scalar, list) is part of its encoding. A transcript for a
//! proof starts from a [`ProofContext`]: protocol name and version, session id, round, prover
//! and the ordered party set (SECURITY.md item 8). The hash is SHA-512; challenges are drawn in
//! counter mode from a fork of the state and then absorbed back, so later challenges depend on
//! earlier ones.

use sha2::{Digest, Sha512};

use crate::curve::Curve;

const TAG_DOMAIN: u8 = 1;
const TAG_BYTES: u8 = 2;
const TAG_U64: u8 = 3;
const TAG_POINT: u8 = 4;
const TAG_SCALAR: u8 = 5;
const TAG_POINTS: u8 = 6;
const TAG_CHALLENGE: u8 = 7;
const TAG_CONTEXT: u8 = 8;
const TAG_DIGEST: u8 = 9;

/// Who proves what, where: bound into every proof's transcript.
#[derive(Debug, Clone, Copy)]
pub struct ProofContext<'a> {
    /// Protocol name, e.g. `"conclave/dkg"`.
    pub protocol: &'static str,
    /// Protocol version.
    pub version: u32,
    /// The session id all parties agreed on.
    pub session: &'a [u8],
    /// The round the proof belongs to.
    pub round: u16,
    /// The prover's party index.
    pub prover: u16,
    /// The ordered set of party indices taking part.
    pub parties: &'a [u16],
}

/// A running Fiat–Shamir transcript.
#[derive(Clone)]
pub struct Transcript {
    hasher: Sha512,
}

impl core::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Transcript")
    }
}

impl Transcript {
    /// A transcript for the domain `domain` (e.g. `"conclave/sch/v1"`).
    pub fn new(domain: &'static str) -> Self {
        let mut t = Self { hasher: Sha512::new() };
        t.item(TAG_DOMAIN, "conclave-transcript/v1", domain.as_bytes());
        t
    }

    /// A transcript for `label` that starts from the full proof context.
    pub fn for_proof(domain: &'static str, ctx: &ProofContext<'_>) -> Self {
        let mut t = Self::new(domain);
        t.append_context(ctx);
        t
    }

    fn item(&mut self, tag: u8, label: &str, value: &[u8]) {
        self.hasher.update([tag]);
        self.hasher.update((label.len() as u32).to_be_bytes());
        self.hasher.update(label.as_bytes());
        self.hasher.update((value.len() as u64).to_be_bytes());
        self.hasher.update(value);
    }

    /// Absorbs a proof context.
    pub fn append_context(&mut self, ctx: &ProofContext<'_>) {
        let mut v = Vec::with_capacity(64 + ctx.session.len() + 2 * ctx.parties.len());
        v.extend_from_slice(&(ctx.protocol.len() as u32).to_be_bytes());
        v.extend_from_slice(ctx.protocol.as_bytes());
        v.extend_from_slice(&ctx.version.to_be_bytes());
        v.extend_from_slice(&(ctx.session.len() as u32).to_be_bytes());
        v.extend_from_slice(ctx.session);
        v.extend_from_slice(&ctx.round.to_be_bytes());
        v.extend_from_slice(&ctx.prover.to_be_bytes());
        v.extend_from_slice(&(ctx.parties.len() as u32).to_be_bytes());
        for p in ctx.parties {
            v.extend_from_slice(&p.to_be_bytes());
        }
        self.item(TAG_CONTEXT, "context", &v);
    }

    /// Absorbs a byte string.
    pub fn append_bytes(&mut self, label: &'static str, value: &[u8]) {
        self.item(TAG_BYTES, label, value);
    }

    /// Absorbs an integer.
    pub fn append_u64(&mut self, label: &'static str, value: u64) {
        self.item(TAG_U64, label, &value.to_be_bytes());
    }

    /// Absorbs a point of curve `C` (the curve's name is part of the item).
    pub fn append_point<C: Curve>(&mut self, label: &'static str, point: &C::Point) {
        let mut v = vec![C::ID.tag()];
        v.extend_from_slice(&C::encode_point(point));
        self.item(TAG_POINT, label, &v);
    }

    /// Absorbs an ordered list of points of curve `C`.
    pub fn append_points<C: Curve>(&mut self, label: &'static str, points: &[C::Point]) {
        let mut v = Vec::with_capacity(5 + points.len() * C::POINT_LEN);
        v.push(C::ID.tag());
        v.extend_from_slice(&(points.len() as u32).to_be_bytes());
        for p in points {
            v.extend_from_slice(&C::encode_point(p));
        }
        self.item(TAG_POINTS, label, &v);
    }

    /// Absorbs a public scalar of curve `C`.
    pub fn append_scalar<C: Curve>(&mut self, label: &'static str, scalar: &C::Scalar) {
        let mut v = vec![C::ID.tag()];
        v.extend_from_slice(&C::encode_scalar(scalar));
        self.item(TAG_SCALAR, label, &v);
    }

    /// Fills `out` with challenge bytes bound to everything absorbed so far and to `label`,
    /// then absorbs the challenge so the next one differs.
    pub fn challenge_bytes(&mut self, label: &'static str, out: &mut [u8]) {
        self.item(TAG_CHALLENGE, label, &(out.len() as u64).to_be_bytes());
        let seed = self.hasher.clone().finalize();
        for (counter, chunk) in out.chunks_mut(64).enumerate() {
            let block = Sha512::new()
                .chain_update(b"conclave-transcript/v1/expand")
                .chain_update(seed)
                .chain_update((counter as u64).to_be_bytes())
                .finalize();
            let n = chunk.len();
            chunk.copy_from_slice(block.get(..n).unwrap_or_default());
        }
        self.hasher.update(seed);
    }

    /// A challenge scalar of curve `C`: 64 challenge bytes reduced modulo the group order
    /// (statistically uniform).
    pub fn challenge_scalar<C: Curve>(&mut self, label: &'static str) -> C::Scalar {
        let mut wide = [0u8; 64];
        self.challenge_bytes(label, &mut wide);
        C::scalar_from_wide(&wide)
    }

    /// A 32-byte digest of everything absorbed (for commitments and ids); does not change
    /// the transcript.
    pub fn digest(&self, label: &'static str) -> [u8; 32] {
        let mut h = self.hasher.clone();
        h.update([TAG_DIGEST]);
        h.update((label.len() as u32).to_be_bytes());
        h.update(label.as_bytes());
        let full = h.finalize();
        let mut out = [0u8; 32];
        out.copy_from_slice(full.get(..32).unwrap_or_default());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secp256k1;

    #[test]
    fn items_are_unambiguous() {
        // Moving a byte between two adjacent items changes the digest.
        let mut a = Transcript::new("t");
        a.append_bytes("x", b"ab");
        a.append_bytes("y", b"c");
        let mut b = Transcript::new("t");
        b.append_bytes("x", b"a");
        b.append_bytes("y", b"bc");
        assert_ne!(a.digest("d"), b.digest("d"));
        // The same bytes as an integer or as a byte string differ.
        let mut c = Transcript::new("t");
        c.append_u64("x", 1);
        let mut d = Transcript::new("t");
        d.append_bytes("x", &1u64.to_be_bytes());
        assert_ne!(c.digest("d"), d.digest("d"));
        // Labels matter.
        let mut e = Transcript::new("t");
        e.append_u64("y", 1);
        assert_ne!(c.digest("d"), e.digest("d"));
        // Domains matter.
        assert_ne!(Transcript::new("t").digest("d"), Transcript::new("u").digest("d"));
    }

    #[test]
    fn context_fields_all_bind() {
        let parties = [0u16, 1, 2];
        let base =
            ProofContext { protocol: "p", version: 1, session: b"session", round: 1, prover: 0, parties: &parties };
        let d = |ctx: &ProofContext<'_>| Transcript::for_proof("x", ctx).digest("d");
        let reference = d(&base);
        assert_ne!(reference, d(&ProofContext { protocol: "q", ..base }));
        assert_ne!(reference, d(&ProofContext { version: 2, ..base }));
        assert_ne!(reference, d(&ProofContext { session: b"other", ..base }));
        assert_ne!(reference, d(&ProofContext { round: 2, ..base }));
        assert_ne!(reference, d(&ProofContext { prover: 1, ..base }));
        assert_ne!(reference, d(&ProofContext { parties: &[0, 1], ..base }));
    }

    #[test]
    fn successive_challenges_differ_and_are_deterministic() {
        let mut a = Transcript::new("t");
        let c1 = a.challenge_scalar::<Secp256k1>("c");
        let c2 = a.challenge_scalar::<Secp256k1>("c");
        assert_ne!(c1, c2);
        let mut b = Transcript::new("t");
        assert_eq!(c1, b.challenge_scalar::<Secp256k1>("c"));
        let mut long = [0u8; 200];
        Transcript::new("t").challenge_bytes("bits", &mut long);
        assert!(long[64..128] != long[..64]);
    }
}
