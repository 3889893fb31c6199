//! At-rest encodings of [`KeyShare`], [`PublicKeyShare`] and [`AuxInfo`] — **only for the
//! node's encrypted store** (`conclave-store`), which seals every record with an AEAD. These
//! are the only doors out of the secret types; they are not wire formats and must never be
//! written anywhere in clear.
//!
//! Every record starts with a type tag, a format version and (for curve types) the curve tag,
//! followed by the fields in the canonical codec of `conclave-math` (big-endian integers,
//! length-prefixed sequences, canonical points and scalars). Secret fields come last.
//!
//! | type tag | record |
//! |---|---|
//! | 1 | [`KeyShare`] |
//! | 2 | [`AuxInfo`] |
//! | 3 | [`PublicKeyShare`] |
//! | 4 | `conclave_ecdsa::Presignature` (defined in `conclave-ecdsa`) |
//! | 5 | [`PendingHandover`] (a confirmed, unfinished reshare) |
//! | 6 | [`HandoverReceipt`] (public: also sent to a peer that asks for it) |
//!
//! Decoding re-validates everything a constructor would: canonical points and scalars, the key
//! id recomputed, the public shares consistent with the public key, our secret share matching
//! our public share, Paillier primes safe and matching our encryption key, every modulus
//! above the security floor. Decoding never panics.

use std::collections::BTreeMap;

use conclave_math::codec::{Reader, Writer, MAX_SEQUENCE};
use conclave_math::poly::{interpolate_points_at_zero, shamir_x};
use conclave_math::{Curve, CurveId, DecodeError, SecretScalar};
use conclave_paillier::{DecryptionKey, EncryptionKey, Integer, PaillierError, RingPedersenParams, MAX_MODULUS_BITS};
use conclave_protocol::{PartyIndex, PartySet, SessionId, SignedStatement};
use zeroize::Zeroizing;

use crate::aux::{AuxError, AuxInfo, PartyAux};
use crate::key_share::{KeyId, KeyShare, PublicKeyShare};
use crate::reshare::{HandoverReceipt, PendingHandover};

/// The format version of every record type defined here.
pub const RECORD_VERSION: u8 = 1;

/// Type tag of a [`KeyShare`] record.
pub const KEY_SHARE_RECORD: u8 = 1;
/// Type tag of an [`AuxInfo`] record.
pub const AUX_INFO_RECORD: u8 = 2;
/// Type tag of a [`PublicKeyShare`] record.
pub const PUBLIC_KEY_SHARE_RECORD: u8 = 3;
/// Type tag of a presignature record (defined in `conclave-ecdsa`).
pub const PRESIGNATURE_RECORD: u8 = 4;
/// Type tag of a [`PendingHandover`] record.
pub const PENDING_HANDOVER_RECORD: u8 = 5;
/// Type tag of a [`HandoverReceipt`] encoding.
pub const HANDOVER_RECEIPT_RECORD: u8 = 6;

/// Why a stored record could not be decoded. Never contains secret material: only positions,
/// lengths, tags and static descriptions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The bytes do not follow the record's encoding.
    #[error("malformed record: {0}")]
    Malformed(#[from] DecodeError),
    /// The record is of another type.
    #[error("not a {expected} record (type tag {found})")]
    WrongType {
        /// The type being decoded.
        expected: &'static str,
        /// The type tag found.
        found: u8,
    },
    /// A format version this build does not read.
    #[error("unsupported record version {found} (this build reads {RECORD_VERSION})")]
    UnsupportedVersion {
        /// The version found.
        found: u8,
    },
    /// The record is for another curve.
    #[error("record is for curve tag {found}, not {expected}")]
    WrongCurve {
        /// The curve being decoded.
        expected: CurveId,
        /// The curve tag found.
        found: u8,
    },
    /// The fields decode but do not fit together (key id, public shares, secret share, …).
    #[error("inconsistent record: {0}")]
    Inconsistent(&'static str),
    /// The Paillier key or ring-Pedersen parameters are invalid.
    #[error("invalid Paillier data in record: {0}")]
    Paillier(#[from] PaillierError),
    /// The auxiliary data is inconsistent.
    #[error("invalid auxiliary data in record: {0}")]
    Aux(#[from] AuxError),
}

/// Writes a record header: type tag, version, and the curve tag if any.
pub fn write_header(w: &mut Writer, type_tag: u8, curve: Option<CurveId>) {
    w.u8(type_tag).u8(RECORD_VERSION);
    if let Some(c) = curve {
        w.u8(c.tag());
    }
}

/// Reads and checks a record header written by [`write_header`].
pub fn read_header(
    r: &mut Reader<'_>,
    type_tag: u8,
    what: &'static str,
    curve: Option<CurveId>,
) -> Result<(), RecordError> {
    let found = r.u8()?;
    if found != type_tag {
        return Err(RecordError::WrongType { expected: what, found });
    }
    let version = r.u8()?;
    if version != RECORD_VERSION {
        return Err(RecordError::UnsupportedVersion { found: version });
    }
    if let Some(expected) = curve {
        let found = r.u8()?;
        if found != expected.tag() {
            return Err(RecordError::WrongCurve { expected, found });
        }
    }
    Ok(())
}

/// Reads a map keyed by party index (strictly ascending) whose keys must be exactly `parties`.
pub fn read_party_points<C: Curve>(
    r: &mut Reader<'_>,
    parties: &PartySet,
    what: &'static str,
) -> Result<BTreeMap<PartyIndex, C::Point>, RecordError> {
    let n = r.len(what, MAX_SEQUENCE, 2 + C::POINT_LEN)?;
    let mut map = BTreeMap::new();
    let mut last: Option<u16> = None;
    for _ in 0..n {
        let p = r.u16()?;
        if last.is_some_and(|l| l >= p) {
            return Err(DecodeError::Invalid { what, reason: "not strictly ascending" }.into());
        }
        last = Some(p);
        map.insert(PartyIndex(p), r.point::<C>()?);
    }
    if !map.keys().copied().eq(parties.iter()) {
        return Err(RecordError::Inconsistent("points are not keyed by exactly the parties"));
    }
    Ok(map)
}

/// Writes a map keyed by party index, as read by [`read_party_points`].
pub fn write_party_points<C: Curve>(w: &mut Writer, map: &BTreeMap<PartyIndex, C::Point>) {
    w.len(map.len());
    for (p, point) in map {
        w.u16(p.0).point::<C>(point);
    }
}

fn write_public<C: Curve>(w: &mut Writer, p: &PublicKeyShare<C>) {
    w.u16(p.threshold).put(&p.parties);
    write_party_points::<C>(w, &p.public_shares);
    w.point::<C>(&p.public_key).fixed(&p.chain_code).fixed(&p.key_id.0);
}

fn read_public<C: Curve>(r: &mut Reader<'_>) -> Result<PublicKeyShare<C>, RecordError> {
    let threshold = r.u16()?;
    let parties: PartySet = r.get()?;
    let public_shares = read_party_points::<C>(r, &parties, "public shares")?;
    let public_key = r.point::<C>()?;
    let chain_code: [u8; 32] = r.array()?;
    let key_id = KeyId(r.array()?);
    if threshold == 0 || usize::from(threshold) > parties.len() {
        return Err(RecordError::Inconsistent("threshold outside 1..=n"));
    }
    let recomputed = PublicKeyShare::<C>::compute_key_id(threshold, &parties, &public_shares, &public_key, &chain_code);
    if recomputed != key_id {
        return Err(RecordError::Inconsistent("key id does not match the public data"));
    }
    check_shares_consistent::<C>(usize::from(threshold), &public_shares, &public_key)?;
    Ok(PublicKeyShare { key_id, threshold, parties, public_shares, public_key, chain_code })
}

/// Checks that the public shares lie on one polynomial of degree `t - 1` whose value at 0 is
/// the public key: the first `t - 1` shares together with any other share interpolate to `Y`.
/// (Those `t - 1` shares and `Y` fix the polynomial; each further share must then lie on it.)
fn check_shares_consistent<C: Curve>(
    t: usize,
    shares: &BTreeMap<PartyIndex, C::Point>,
    public_key: &C::Point,
) -> Result<(), RecordError> {
    let points: Vec<(C::Scalar, C::Point)> = shares.iter().map(|(p, x)| (shamir_x::<C>(p.0), *x)).collect();
    let base = t.saturating_sub(1);
    let (xs_base, ys_base): (Vec<C::Scalar>, Vec<C::Point>) = points.iter().take(base).copied().unzip();
    for (x, y) in points.iter().skip(base) {
        let mut xs = xs_base.clone();
        let mut ys = ys_base.clone();
        xs.push(*x);
        ys.push(*y);
        let at_zero = interpolate_points_at_zero::<C>(&xs, &ys)
            .map_err(|_| RecordError::Inconsistent("party x-coordinates are not distinct"))?;
        if at_zero != *public_key {
            return Err(RecordError::Inconsistent("public shares do not interpolate to the public key"));
        }
    }
    Ok(())
}

impl<C: Curve> PublicKeyShare<C> {
    /// Encodes the public data of a key (public; no secret inside).
    pub fn to_record(&self) -> Vec<u8> {
        let mut w = Writer::new();
        write_header(&mut w, PUBLIC_KEY_SHARE_RECORD, Some(C::ID));
        write_public(&mut w, self);
        w.into_bytes()
    }

    /// Decodes and re-validates [`PublicKeyShare::to_record`]: canonical points, threshold in
    /// `1..=n`, shares keyed by exactly the parties, key id recomputed, shares consistent with
    /// the public key.
    pub fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, PUBLIC_KEY_SHARE_RECORD, "public key share", Some(C::ID))?;
        let public = read_public::<C>(&mut r)?;
        r.finish()?;
        Ok(public)
    }
}

impl<C: Curve> KeyShare<C> {
    /// Encodes the key share — **only for the node's encrypted store**. The buffer is zeroized
    /// on drop.
    pub fn to_record(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        write_header(&mut w, KEY_SHARE_RECORD, Some(C::ID));
        write_public(&mut w, self.public());
        w.u16(self.me().0);
        // The secret goes in last, in one copy: the writer's earlier buffers never held it.
        let secret = Zeroizing::new(C::encode_scalar(self.expose_secret_share().expose_secret()));
        w.fixed(&secret);
        Zeroizing::new(w.into_bytes())
    }

    /// Decodes and re-validates [`KeyShare::to_record`]: everything
    /// [`PublicKeyShare::from_record`] checks, our index among the parties, the secret share
    /// canonical and `x_i·G` equal to our public share.
    pub fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, KEY_SHARE_RECORD, "key share", Some(C::ID))?;
        let public = read_public::<C>(&mut r)?;
        let share = read_own_share::<C>(&mut r, public)?;
        r.finish()?;
        Ok(share)
    }
}

/// Longest accepted hex encoding of a Paillier prime.
const MAX_PRIME_HEX: usize = (MAX_MODULUS_BITS / 2 / 4) as usize;

/// Appends `len(hex) | hex` of a secret integer to a buffer that was sized for it.
fn push_secret_hex(out: &mut Zeroizing<Vec<u8>>, hex: &str) {
    out.extend_from_slice(&u32::try_from(hex.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(hex.as_bytes());
}

/// Reads a secret prime written as lower-case hex without leading zeros.
fn read_secret_prime(r: &mut Reader<'_>) -> Result<Integer, RecordError> {
    let bytes = r.bytes("prime", MAX_PRIME_HEX)?;
    let canonical = bytes.first().is_some_and(|b| *b != b'0')
        && bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    if !canonical {
        return Err(DecodeError::Invalid { what: "prime", reason: "not lower-case hex without leading zeros" }.into());
    }
    let text = core::str::from_utf8(bytes).map_err(|_| DecodeError::Invalid { what: "prime", reason: "not hex" })?;
    Integer::from_str_radix(text, 16).map_err(|_| DecodeError::Invalid { what: "prime", reason: "not hex" }.into())
}

impl AuxInfo {
    /// Encodes the auxiliary data with our Paillier primes — **only for the node's encrypted
    /// store**. The buffer is zeroized on drop.
    pub fn to_record(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        write_header(&mut w, AUX_INFO_RECORD, None);
        w.u16(self.me().0);
        w.len(self.parties().len());
        for (p, aux) in self.parties() {
            w.u16(p.0).bytes(&aux.ek.to_be_bytes()).bytes(&aux.rp.to_bytes());
        }
        let (p, q) = self.decryption_key().expose_primes();
        let p_hex = Zeroizing::new(p.to_string_radix(16));
        let q_hex = Zeroizing::new(q.to_string_radix(16));
        // Sized exactly, so the secret is copied once and never left in a freed buffer.
        let mut secret = Zeroizing::new(Vec::with_capacity(8 + p_hex.len() + q_hex.len()));
        push_secret_hex(&mut secret, &p_hex);
        push_secret_hex(&mut secret, &q_hex);
        w.fixed(&secret);
        Zeroizing::new(w.into_bytes())
    }

    /// Decodes and re-validates [`AuxInfo::to_record`]: every party's modulus and
    /// ring-Pedersen parameters (canonical, well-formed, above the security floor), parties
    /// strictly ascending, our primes safe primes of the required size
    /// ([`DecryptionKey::from_safe_primes`]) whose product is our published modulus
    /// ([`AuxInfo::new`]).
    ///
    /// The other parties' parameters were proven sound (Π^mod, Π^fac, Π^prm) when they were
    /// received; at rest their integrity comes from the store's authenticated encryption.
    pub fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        // Byte length of a modulus, and of ring-Pedersen parameters (three length-prefixed
        // integers below the modulus).
        const MAX_N_BYTES: usize = (MAX_MODULUS_BITS / 8) as usize;
        const MAX_RP_BYTES: usize = 3 * (4 + MAX_N_BYTES);
        let mut r = Reader::new(bytes);
        read_header(&mut r, AUX_INFO_RECORD, "aux info", None)?;
        let me = PartyIndex(r.u16()?);
        let n = r.len("aux parties", MAX_SEQUENCE, 2 + 4 + 4)?;
        let mut parties = BTreeMap::new();
        let mut last: Option<u16> = None;
        for _ in 0..n {
            let p = r.u16()?;
            if last.is_some_and(|l| l >= p) {
                return Err(DecodeError::Invalid { what: "aux parties", reason: "not strictly ascending" }.into());
            }
            last = Some(p);
            let ek = EncryptionKey::from_be_bytes(r.bytes("modulus", MAX_N_BYTES)?)?;
            let rp = RingPedersenParams::from_bytes(r.bytes("ring-Pedersen parameters", MAX_RP_BYTES)?)?;
            parties.insert(PartyIndex(p), PartyAux { ek, rp });
        }
        let mut p = read_secret_prime(&mut r)?;
        let mut q = match read_secret_prime(&mut r) {
            Ok(q) => q,
            Err(e) => {
                conclave_paillier::wipe_integer(&mut p);
                return Err(e);
            }
        };
        if let Err(e) = r.finish() {
            conclave_paillier::wipe_integer(&mut p);
            conclave_paillier::wipe_integer(&mut q);
            return Err(e.into());
        }
        // `from_safe_primes` takes ownership and wipes the primes on every path.
        let dk = DecryptionKey::from_safe_primes(p, q)?;
        Ok(AuxInfo::new(me, dk, parties)?)
    }
}

/// Reads a secret share for party `me` and checks it against the public data.
fn read_own_share<C: Curve>(r: &mut Reader<'_>, public: PublicKeyShare<C>) -> Result<KeyShare<C>, RecordError> {
    let me = PartyIndex(r.u16()?);
    let secret = SecretScalar::<C>::new(r.scalar::<C>()?);
    let Some(mine) = public.public_shares.get(&me) else {
        return Err(RecordError::Inconsistent("our index is not among the parties"));
    };
    if secret.public_point() != *mine {
        return Err(RecordError::Inconsistent("the secret share does not match our public share"));
    }
    Ok(KeyShare::new(public, me, secret))
}

impl<C: Curve> PendingHandover<C> {
    /// Encodes the pending hand-over — **only for the node's encrypted store** (it holds our
    /// new secret share). The buffer is zeroized on drop.
    pub fn to_record(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        write_header(&mut w, PENDING_HANDOVER_RECORD, Some(C::ID));
        w.fixed(&self.session.0).fixed(&self.old_key_id.0).put(&self.old_signers).fixed(&self.confirmation);
        write_public(&mut w, &self.new_public);
        match &self.share {
            None => {
                w.u8(0);
            }
            Some(share) => {
                w.u8(1).u16(share.me().0);
                let secret = Zeroizing::new(C::encode_scalar(share.expose_secret_share().expose_secret()));
                w.fixed(&secret);
            }
        }
        Zeroizing::new(w.into_bytes())
    }

    /// Decodes and re-validates [`PendingHandover::to_record`]: the new public data as
    /// [`PublicKeyShare::from_record`] checks it, and our new share (if any) against it.
    pub fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, PENDING_HANDOVER_RECORD, "pending hand-over", Some(C::ID))?;
        let session = SessionId(r.array()?);
        let old_key_id = KeyId(r.array()?);
        let old_signers: PartySet = r.get()?;
        let confirmation: [u8; 32] = r.array()?;
        let new_public = read_public::<C>(&mut r)?;
        let share = match r.u8()? {
            0 => None,
            1 => Some(read_own_share::<C>(&mut r, new_public.clone())?),
            tag => return Err(DecodeError::UnknownTag { what: "pending share", tag }.into()),
        };
        r.finish()?;
        Ok(PendingHandover { session, old_key_id, old_signers, confirmation, new_public, share })
    }
}

/// Most old signers a receipt can name (one commitment each).
const MAX_RECEIPT_PARTIES: usize = 1024;

impl<C: Curve> HandoverReceipt<C> {
    /// Encodes the receipt (public data only: a node keeps it, and sends it to a party of the
    /// session that asks).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        write_header(&mut w, HANDOVER_RECEIPT_RECORD, Some(C::ID));
        w.fixed(&self.session.0).fixed(&self.old_key_id.0).put(&self.old_signers);
        write_public(&mut w, &self.new_public);
        w.len(self.commitments.len());
        for (p, points) in &self.commitments {
            w.u16(p.0).points::<C>(points);
        }
        w.fixed(&self.confirmation).u16(self.holder.0).len(self.confirmations.len());
        for (p, st) in &self.confirmations {
            w.u16(p.0).put(st);
        }
        w.into_bytes()
    }

    /// Decodes [`HandoverReceipt::to_bytes`]: canonical points, the new public data checked as
    /// [`PublicKeyShare::from_record`] does, maps strictly ascending. Whether the receipt
    /// proves anything is [`HandoverReceipt::verify`]'s question.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, HANDOVER_RECEIPT_RECORD, "hand-over receipt", Some(C::ID))?;
        let session = SessionId(r.array()?);
        let old_key_id = KeyId(r.array()?);
        let old_signers: PartySet = r.get()?;
        let new_public = read_public::<C>(&mut r)?;
        let ascending = |last: &mut Option<u16>, p: u16, what: &'static str| {
            if last.is_some_and(|l| l >= p) {
                return Err(DecodeError::Invalid { what, reason: "not strictly ascending" });
            }
            *last = Some(p);
            Ok(PartyIndex(p))
        };
        let n = r.len("commitments", MAX_RECEIPT_PARTIES, 2 + C::POINT_LEN)?;
        let mut commitments = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let p = ascending(&mut last, r.u16()?, "commitments")?;
            commitments.insert(p, r.points::<C>()?);
        }
        let confirmation: [u8; 32] = r.array()?;
        let holder = PartyIndex(r.u16()?);
        let n = r.len("confirmations", MAX_RECEIPT_PARTIES, 2)?;
        let mut confirmations = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let p = ascending(&mut last, r.u16()?, "confirmations")?;
            confirmations.insert(p, r.get::<SignedStatement>()?);
        }
        r.finish()?;
        Ok(HandoverReceipt {
            session,
            old_key_id,
            old_signers,
            new_public,
            commitments,
            confirmation,
            holder,
            confirmations,
        })
    }
}
