//! The signing protocol: two rounds of RFC 9591 FROST driven by Conclave's [`Machine`].
//!
//! Steps are numbered as in `docs/spec/frost.md`:
//!
//! | round | sends | delivery | checks |
//! |---|---|---|---|
//! | 1 | `Commit { i, H(request), D_i, E_i }` | reliable (echo) | identifier = authenticated sender, same request, points valid and not the identity |
//! | 2 | `Share { z_i }` | plain | every `z_i` against `D_i, E_i, ρ_i, λ_i, X_i, c`; then the aggregate signature |
//!
//! Every signer computes the signature itself (there is no coordinator), so every signer
//! verifies every share and names every signer whose share is wrong.

use core::fmt;
use std::collections::BTreeMap;

use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Writer};
use conclave_math::poly::shamir_x;
use conclave_math::{Curve, DecodeError, Transcript};
use conclave_protocol::fault::push_culprit;
use conclave_protocol::{
    Culprit, Delivery, Fault, Machine, MachineConfig, Outbox, PartyIndex, PartySet, Protocol, ProtocolError, Received,
    RoundId, RoundInfo, RoundInput, SessionId, Step,
};
use frost_core::keys::{KeyPackage, PublicKeyPackage, SigningShare, VerifyingShare};
use frost_core::round1::{NonceCommitment, SigningCommitments, SigningNonces};
use frost_core::round2::SignatureShare;
use frost_core::{Ciphersuite, Identifier, SigningPackage, VerifyingKey};
use k256::elliptic_curve::group::Group as _;
use rand_core::CryptoRngCore;

use crate::error::SignError;
use crate::msg::{Commit, Share};
use crate::scheme::{Scheme, SchemeId, Tweak};

/// Round 1 expects one reliable broadcast from every other signer.
const ROUND1: RoundInfo = RoundInfo { id: RoundId(1), broadcast: Some(Delivery::Reliable), direct: false };
/// Round 2 expects one broadcast from every other signer.
const ROUND2: RoundInfo = RoundInfo { id: RoundId(2), broadcast: Some(Delivery::Plain), direct: false };

/// What to sign. Every signer of a session must be given the same request (it is bound into
/// round 1; a signer with a different request is blamed before any share is released).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    /// The message, signed as is (for BIP-340/Taproot: typically the 32-byte sighash).
    pub message: Vec<u8>,
    /// The tweak of the group key ([`Tweak::None`] except for Taproot).
    pub tweak: Tweak,
}

impl SignRequest {
    /// A request to sign `message` under the group key itself.
    pub fn new(message: impl Into<Vec<u8>>) -> Self {
        Self { message: message.into(), tweak: Tweak::None }
    }

    /// A BIP-341 key-path request: sign `message` for the Taproot output key.
    pub fn taproot(message: impl Into<Vec<u8>>, merkle_root: Option<[u8; 32]>) -> Self {
        Self { message: message.into(), tweak: Tweak::Taproot { merkle_root } }
    }
}

/// A threshold signature, verified before it was released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdSignature {
    /// The scheme.
    pub scheme: SchemeId,
    /// The key the signature verifies under, as the scheme publishes it (Ed25519: 32 bytes;
    /// FROST secp256k1: 33 bytes SEC1; BIP-340: the 32-byte x-only key, for Taproot the
    /// tweaked output key).
    pub public_key: Vec<u8>,
    /// The signature (Ed25519, BIP-340: 64 bytes; FROST secp256k1: 65 bytes).
    pub signature: Vec<u8>,
}

impl ThresholdSignature {
    /// Verifies the signature on `message`.
    pub fn verify(&self, message: &[u8]) -> bool {
        crate::scheme::verify(self.scheme, &self.public_key, message, &self.signature)
    }
}

/// The public parameters of a session.
struct Context<S: Scheme> {
    signers: PartySet,
    me: PartyIndex,
    ids: BTreeMap<PartyIndex, Identifier<S::Suite>>,
    public: PublicKeyPackage<S::Suite>,
    message: Vec<u8>,
    request: [u8; 32],
    public_key: Vec<u8>,
}

impl<S: Scheme> Context<S> {
    fn id(&self, p: PartyIndex) -> Result<Identifier<S::Suite>, ProtocolError> {
        self.ids.get(&p).copied().ok_or(ProtocolError::Bug("signer without identifier"))
    }

    fn party(&self, id: &Identifier<S::Suite>) -> Option<PartyIndex> {
        self.ids.iter().find(|(_, v)| *v == id).map(|(p, _)| *p)
    }
}

/// `H(request)`: everything the signers must agree on before they release a share.
fn request_digest(
    scheme: SchemeId,
    session: &SessionId,
    key: &conclave_keygen::KeyId,
    threshold: u16,
    signers: &PartySet,
    request: &SignRequest,
) -> [u8; 32] {
    let mut t = Transcript::new("conclave/frost/v1/request");
    t.append_bytes("session", &session.0);
    t.append_u64("scheme", scheme.transcript_tag());
    t.append_bytes("key id", &key.0);
    t.append_u64("threshold", u64::from(threshold));
    let idx: Vec<u8> = signers.iter().flat_map(|p| p.0.to_be_bytes()).collect();
    t.append_bytes("signers", &idx);
    t.append_bytes("message", &request.message);
    match &request.tweak {
        Tweak::None => t.append_u64("tweak", 0),
        Tweak::Taproot { merkle_root: None } => t.append_u64("tweak", 1),
        Tweak::Taproot { merkle_root: Some(root) } => {
            t.append_u64("tweak", 2);
            t.append_bytes("merkle root", root);
        }
    }
    t.digest("request")
}

/// A signer's nonces: single use by type (not `Clone`, consumed by [`Nonces::sign`]),
/// zeroized on drop (the inner `SigningNonces` is `ZeroizeOnDrop`), redacted in `Debug`.
struct Nonces<S: Scheme>(SigningNonces<S::Suite>);

impl<S: Scheme> Nonces<S> {
    /// Step 1.2 (RFC 9591 §5.1 `commit`): `d_i, e_i = nonce_generate(s_i)`, each
    /// `H3(32 fresh random bytes ‖ s_i)`; `D_i = d_i·G`, `E_i = e_i·G`.
    fn commit(key: &KeyPackage<S::Suite>, mut rng: &mut dyn CryptoRngCore) -> Self {
        let (nonces, _) = frost_core::round1::commit(key.signing_share(), &mut rng);
        Self(nonces)
    }

    fn commitments(&self) -> &SigningCommitments<S::Suite> {
        self.0.commitments()
    }

    /// Step 2.3 (RFC 9591 §5.2 `sign`). Consumes (and so zeroizes) the nonces.
    fn sign(
        self,
        package: &SigningPackage<S::Suite>,
        key: &KeyPackage<S::Suite>,
    ) -> Result<SignatureShare<S::Suite>, ProtocolError> {
        frost_core::round2::sign(package, &self.0, key).map_err(|_| ProtocolError::Bug("signing our share failed"))
    }
}

impl<S: Scheme> fmt::Debug for Nonces<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonces(<redacted>)")
    }
}

/// The signing protocol's states, one per round.
pub enum Signing<S: Scheme> {
    /// Waiting for every signer's commitments.
    Round1(Round1<S>),
    /// Waiting for every signer's signature share.
    Round2(Round2<S>),
}

impl<S: Scheme> fmt::Debug for Signing<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signing::Round1(s) => f.debug_tuple("Signing::Round1").field(s).finish(),
            Signing::Round2(s) => f.debug_tuple("Signing::Round2").field(s).finish(),
        }
    }
}

/// What a signer keeps after sending its commitments.
pub struct Round1<S: Scheme> {
    ctx: Context<S>,
    key: KeyPackage<S::Suite>,
    nonces: Nonces<S>,
}

impl<S: Scheme> fmt::Debug for Round1<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Round1")
            .field("scheme", &S::ID)
            .field("me", &self.ctx.me)
            .field("nonces", &self.nonces)
            .finish_non_exhaustive()
    }
}

/// What a signer keeps after sending its signature share (no secret any more).
pub struct Round2<S: Scheme> {
    ctx: Context<S>,
    package: SigningPackage<S::Suite>,
    own_share: SignatureShare<S::Suite>,
}

impl<S: Scheme> fmt::Debug for Round2<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Round2").field("scheme", &S::ID).field("me", &self.ctx.me).finish_non_exhaustive()
    }
}

impl<S: Scheme> Protocol for Signing<S> {
    type Output = ThresholdSignature;
    const NAME: &'static str = S::PROTOCOL;

    fn round(&self) -> RoundInfo {
        match self {
            Signing::Round1(_) => ROUND1,
            Signing::Round2(_) => ROUND2,
        }
    }

    fn proceed(self, _rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        match self {
            Signing::Round1(s) => s.proceed(input).map(|(s, out)| Step::Next(Signing::Round2(s), out)),
            Signing::Round2(s) => s.proceed(input).map(Step::Done),
        }
    }
}

/// Starts party `cfg.me`'s part in a signing session among the signers `cfg.parties` with
/// its share `key` of a key from [`conclave_keygen::dkg`].
///
/// `cfg.parties` is the signer set: at least `threshold` parties of the key. Every signer
/// must be started with the same session id, signer set and `request`.
pub fn start<S: Scheme>(
    cfg: MachineConfig,
    key: &KeyShare<S::Curve>,
    request: &SignRequest,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<Signing<S>>, SignError> {
    cfg.validate()?;
    let (state, outbox) = Round1::start(&cfg, key, request, rng)?;
    Ok(Machine::start(cfg, rng, Signing::Round1(state), outbox)?)
}

fn identifier<S: Scheme>(p: PartyIndex) -> Result<Identifier<S::Suite>, SignError> {
    // The Shamir x-coordinate of party i is i + 1: RFC 9591's identifier.
    Identifier::new(S::scalar(&shamir_x::<S::Curve>(p.0))).map_err(|_| SignError::Bug("zero identifier"))
}

impl<S: Scheme> Round1<S> {
    /// Steps 1.1–1.3.
    fn start(
        cfg: &MachineConfig,
        key: &KeyShare<S::Curve>,
        request: &SignRequest,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<(Self, Outbox), SignError> {
        // 1.1 The signer set is a subset of the key's parties, of size ≥ t, containing us.
        let public = key.public();
        if cfg.me != key.me() {
            return Err(SignError::InvalidInput(format!("the key share belongs to {}, not {}", key.me(), cfg.me)));
        }
        if let Some(p) = cfg.parties.iter().find(|p| !public.parties.contains(*p)) {
            return Err(SignError::InvalidInput(format!("{p} holds no share of this key")));
        }
        if cfg.parties.len() < usize::from(public.threshold) {
            return Err(SignError::InvalidInput(format!(
                "{} signers, but the key needs {}",
                cfg.parties.len(),
                public.threshold
            )));
        }
        let mut ids = BTreeMap::new();
        let mut verifying_shares = BTreeMap::new();
        for p in cfg.parties.iter() {
            let id = identifier::<S>(p)?;
            let x = public.public_shares.get(&p).ok_or(SignError::Bug("key share without public share"))?;
            ids.insert(p, id);
            verifying_shares.insert(id, VerifyingShare::new(S::element(x)));
        }
        let my_id = identifier::<S>(cfg.me)?;
        let my_share = *verifying_shares.get(&my_id).ok_or(SignError::Bug("no verifying share of our own"))?;
        let vk = VerifyingKey::new(S::element(&public.public_key));
        let key_package = KeyPackage::new(
            my_id,
            SigningShare::new(S::scalar(key.expose_secret_share().expose_secret())),
            my_share,
            vk,
            public.threshold,
        );
        let public_package = PublicKeyPackage::new(verifying_shares, vk, Some(public.threshold));
        // The Taproot tweak, if any, is applied to our share and to every verifying share.
        let (key_package, public_package) = S::apply_tweak(key_package, public_package, &request.tweak)?;
        let public_key = S::public_key_bytes(public_package.verifying_key())?;
        let digest = request_digest(S::ID, &cfg.session, &public.key_id, public.threshold, &cfg.parties, request);
        // 1.2 Nonces and commitments.
        let nonces = Nonces::<S>::commit(&key_package, rng);
        // 1.3 Broadcast (reliably) the commitments with our identifier and the request digest.
        let c = nonces.commitments();
        let (hiding, binding) = (
            c.hiding().serialize().map_err(|_| SignError::Bug("commitment does not serialize"))?,
            c.binding().serialize().map_err(|_| SignError::Bug("commitment does not serialize"))?,
        );
        if hiding.len() != <S::Curve as Curve>::POINT_LEN || binding.len() != <S::Curve as Curve>::POINT_LEN {
            return Err(SignError::Bug("commitment encoding has the wrong length"));
        }
        let mut w = Writer::new();
        w.u16(cfg.me.0).fixed(&digest).fixed(&hiding).fixed(&binding);
        let outbox = Outbox { broadcast: Some(w.into_bytes()), direct: vec![] };
        let ctx = Context {
            signers: cfg.parties.clone(),
            me: cfg.me,
            ids,
            public: public_package,
            message: request.message.clone(),
            request: digest,
            public_key,
        };
        Ok((Self { ctx, key: key_package, nonces }, outbox))
    }

    /// Steps 2.1–2.4: check every (echo-agreed) commitment, build the commitment list, sign.
    fn proceed(self, input: RoundInput) -> Result<(Round2<S>, Outbox), ProtocolError> {
        let Self { ctx, key, nonces } = self;
        let round = ROUND1.id;
        let my_id = ctx.id(ctx.me)?;
        let mut culprits = Vec::new();
        // 2.1 Our own entry, then everyone else's, keyed by the authenticated sender.
        let mut list = BTreeMap::new();
        list.insert(my_id, *nonces.commitments());
        for j in ctx.signers.others(ctx.me) {
            let msg = input.broadcasts.get(&j).ok_or(ProtocolError::Bug("round 1 input incomplete"))?;
            match check_commit::<S>(&ctx, j, &msg.payload) {
                Ok(c) => {
                    if list.insert(ctx.id(j)?, c).is_some() {
                        push_culprit(
                            &mut culprits,
                            Culprit::with_message(j, round, Fault::Duplicate, msg.statement.clone()),
                        );
                    }
                }
                Err(fault) => {
                    push_culprit(&mut culprits, Culprit::with_message(j, round, fault, msg.statement.clone()))
                }
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 2.2 The list holds exactly the signer set, and our own commitment as we made it.
        if list.len() != ctx.signers.len() || list.get(&my_id) != Some(nonces.commitments()) {
            return Err(ProtocolError::Bug("our commitment is not in the commitment list"));
        }
        // 2.3 Sign (binding factors over the group key, H(msg) and the whole list).
        let package = SigningPackage::new(list, &ctx.message);
        let own_share = nonces.sign(&package, &key)?;
        drop(key);
        // 2.4 Broadcast z_i.
        let outbox = Outbox { broadcast: Some(own_share.serialize()), direct: vec![] };
        Ok((Round2 { ctx, package, own_share }, outbox))
    }
}

/// Step 2.1 for one signer: the fault, if its commitment is not acceptable.
fn check_commit<S: Scheme>(
    ctx: &Context<S>,
    from: PartyIndex,
    payload: &[u8],
) -> Result<SigningCommitments<S::Suite>, Fault> {
    let c = Commit::<S::Curve>::from_bytes(payload).map_err(|e| match e {
        DecodeError::IdentityPoint { .. } | DecodeError::NotInSubgroup { .. } => Fault::InvalidValue,
        _ => Fault::Malformed,
    })?;
    if c.signer != from {
        // Claiming another signer's identifier: a duplicate identifier in the list.
        return Err(if ctx.signers.contains(c.signer) { Fault::Duplicate } else { Fault::InvalidValue });
    }
    if c.request != ctx.request {
        return Err(Fault::InconsistentConfirmation);
    }
    // The decoder already rejected the identity (RFC 9591 §5.2 requires it; SECURITY.md 17).
    if bool::from(c.hiding.is_identity()) || bool::from(c.binding.is_identity()) {
        return Err(Fault::InvalidValue);
    }
    Ok(SigningCommitments::new(
        NonceCommitment::new(S::element(&c.hiding)),
        NonceCommitment::new(S::element(&c.binding)),
    ))
}

impl<S: Scheme> Round2<S> {
    /// Steps 3.1–3.4: verify every share, aggregate, verify the signature.
    fn proceed(self, input: RoundInput) -> Result<ThresholdSignature, ProtocolError> {
        let Self { ctx, package, own_share } = self;
        let round = ROUND2.id;
        let my_id = ctx.id(ctx.me)?;
        let mut culprits = Vec::new();
        // 3.1 Decode every share.
        let own_z = <S::Curve as Curve>::decode_scalar(&own_share.serialize())
            .map_err(|_| ProtocolError::Bug("own share does not decode"))?;
        let mut z = own_z;
        let mut shares = BTreeMap::new();
        shares.insert(my_id, own_share);
        let mut statements: BTreeMap<PartyIndex, &Received> = BTreeMap::new();
        for j in ctx.signers.others(ctx.me) {
            let msg = input.broadcasts.get(&j).ok_or(ProtocolError::Bug("round 2 input incomplete"))?;
            statements.insert(j, msg);
            let share = Share::<S::Curve>::from_bytes(&msg.payload).ok().and_then(|s| {
                SignatureShare::<S::Suite>::deserialize(&<S::Curve as Curve>::encode_scalar(&s.share))
                    .ok()
                    .map(|f| (s.share, f))
            });
            match share {
                Some((z_j, s)) => {
                    z += z_j;
                    shares.insert(ctx.id(j)?, s);
                }
                None => push_culprit(
                    &mut culprits,
                    Culprit::with_message(j, round, Fault::Malformed, msg.statement.clone()),
                ),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 3.2 Verify every share before aggregating; name every signer whose share is wrong.
        let (bad, group_commitment) = invalid_shares(&package, &ctx.public, &shares)
            .map_err(|_| ProtocolError::Bug("share verification failed to run"))?;
        for id in bad {
            let Some(p) = ctx.party(&id).filter(|p| *p != ctx.me) else {
                return Err(ProtocolError::Bug("our own signature share is invalid"));
            };
            let st = statements.get(&p).ok_or(ProtocolError::Bug("share without statement"))?;
            push_culprit(&mut culprits, Culprit::with_message(p, round, Fault::InvalidShare, st.statement.clone()));
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 3.3 Aggregate (RFC 9591 §5.3): z = Σ z_i, signature (R, z) with R the group
        // commitment computed in 3.2.
        let sig = frost_core::Signature::<S::Suite>::new(group_commitment, S::scalar(&z));
        // 3.4 Verify the released bytes under the published key before release.
        let signature = S::signature_bytes(&sig).map_err(|_| ProtocolError::Bug("signature does not serialize"))?;
        if !S::verify(&ctx.public_key, &ctx.message, &signature) {
            return Err(ProtocolError::Bug("final signature does not verify"));
        }
        Ok(ThresholdSignature { scheme: S::ID, public_key: ctx.public_key, signature })
    }
}

/// The signers whose shares failed, and the group commitment `R`.
type SharesChecked<C> = (Vec<Identifier<C>>, frost_core::Element<C>);

/// Every identifier whose share does not verify (RFC 9591 §5.4), and the group commitment
/// `R`. Computes the binding
/// factors, group commitment and challenge once, with the ciphersuite's own hooks (the
/// BIP-340 suite's even-Y handling included), in the order `frost_core::aggregate` uses.
fn invalid_shares<C: Ciphersuite>(
    package: &SigningPackage<C>,
    public: &PublicKeyPackage<C>,
    shares: &BTreeMap<Identifier<C>, SignatureShare<C>>,
) -> Result<SharesChecked<C>, frost_core::Error<C>> {
    let (package, shares, public) = C::pre_aggregate(package, shares, public)?;
    let factors = frost_core::compute_binding_factor_list(&package, public.verifying_key(), &[])?;
    let package = C::pre_commitment_aggregate(&package, &factors)?;
    let group_commitment = frost_core::compute_group_commitment(&package, &factors)?;
    let challenge = C::challenge(&group_commitment.clone().to_element(), public.verifying_key(), package.message())?;
    let mut bad = Vec::new();
    for (id, share) in shares.iter() {
        let vs = public.verifying_shares().get(id).ok_or(frost_core::Error::UnknownIdentifier)?;
        match frost_core::verify_signature_share_precomputed(
            *id,
            &package,
            &factors,
            &group_commitment,
            share,
            vs,
            challenge,
        ) {
            Ok(()) => {}
            Err(frost_core::Error::InvalidSignatureShare { .. }) => bad.push(*id),
            Err(e) => return Err(e),
        }
    }
    Ok((bad, group_commitment.to_element()))
}
