//! The curve-only protocols beside the Zcash Foundation `frost-*` crates (3.0): DKG, FROST
//! signing (Ed25519, secp256k1, BIP-340) and key refresh; and our reshare, which has no peer.
//!
//! Our side runs through `conclave_protocol::sim::Simulation` exactly like the ECDSA protocols
//! (`crate::our_simulate`: thread CPU time inside each party's calls, the exact signed envelopes
//! counted as bytes). The ZF crates have no transport: each party's calls are clocked the same
//! way (thread CPU time), and their bytes are the raw values a party must send (points and
//! scalars, no framing, no authentication, broadcasts counted once per recipient and without
//! the reliable-broadcast echo the ZF DKG requires of its caller).

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context as _, Result};
use conclave_frost::{Scheme, SignRequest};
use conclave_keygen::reshare::{self, ReshareInput, ReshareOutput, ReshareParams};
use conclave_keygen::{dkg, KeyShare};
use conclave_math::Curve;
use conclave_protocol::sim::Network;
use conclave_protocol::{PartyIndex, PartySet};
use frost_core::keys::{dkg as zf_dkg, refresh as zf_refresh, IdentifierList, KeyPackage, PublicKeyPackage};
use frost_core::{Ciphersuite, Identifier};
use rand_chacha::ChaCha20Rng;

use crate::{our_simulate, thread_cpu, Cost};

const SCALAR_LEN: u64 = 32;

/// Our DKG on curve `C` among `n` parties, threshold `t`.
pub fn our_dkg<C: Curve>(rng: &mut ChaCha20Rng, t: u16, n: u16) -> Result<(BTreeMap<PartyIndex, KeyShare<C>>, Cost)> {
    let net = Network::new(rng, PartySet::range(n)?);
    let (shares, cost) = our_simulate(&net, rng, |_, cfg, rng| Ok(dkg::start::<C>(cfg, t, rng)?))?;
    let first = shares.values().next().context("no party")?;
    if !shares.values().all(|s| s.public() == first.public()) {
        bail!("our DKG: parties disagree on the key");
    }
    Ok((shares, cost))
}

/// Per-party accounting of a peer run done by hand (no simulator): nanoseconds per party.
struct Clocked {
    nanos: Vec<u64>,
    cpu0: u64,
}

impl Clocked {
    fn new(parties: usize) -> Self {
        Self { nanos: vec![0; parties], cpu0: thread_cpu() }
    }

    fn time<T>(&mut self, party: usize, f: impl FnOnce() -> T) -> T {
        let t0 = thread_cpu();
        let out = f();
        if let Some(n) = self.nanos.get_mut(party) {
            *n += thread_cpu() - t0;
        }
        out
    }

    fn cost(&self, bytes: u64) -> Cost {
        let n = self.nanos.len().max(1) as f64;
        Cost {
            ms: self.nanos.iter().sum::<u64>() as f64 / 1e6 / n,
            run_ms: (thread_cpu() - self.cpu0) as f64 / 1e6 / n,
            wall_ms: 0.0,
            bytes,
            bytes_hex: bytes,
        }
    }
}

fn ids<C: Ciphersuite>(n: u16) -> Result<Vec<Identifier<C>>> {
    (1..=n).map(|i| Identifier::try_from(i).map_err(|e| anyhow!("identifier: {e}"))).collect()
}

type ZfKeys<C> = (Vec<KeyPackage<C>>, PublicKeyPackage<C>);

/// The ZF DKG (`keys::dkg::part1..part3`), every party in turn. Bytes: round 1 broadcasts
/// `t` commitments and a Schnorr proof (a point and a scalar) to the n − 1 others; round 2 a
/// scalar to each.
pub fn zf_dkg<C: Ciphersuite>(rng: &mut ChaCha20Rng, t: u16, n: u16, point_len: u64) -> Result<(ZfKeys<C>, Cost)> {
    let ids = ids::<C>(n)?;
    let mut clk = Clocked::new(ids.len());
    let mut secrets1 = Vec::new();
    let mut round1 = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let (s, p) =
            clk.time(i, || zf_dkg::part1::<C, _>(*id, n, t, &mut *rng)).map_err(|e| anyhow!("zf dkg 1: {e}"))?;
        secrets1.push(s);
        round1.insert(*id, p);
    }
    let others = |me: &Identifier<C>| -> BTreeMap<_, _> {
        round1.iter().filter(|(k, _)| *k != me).map(|(k, v)| (*k, v.clone())).collect()
    };
    let mut secrets2 = Vec::new();
    let mut round2: BTreeMap<Identifier<C>, BTreeMap<Identifier<C>, _>> = BTreeMap::new();
    for (i, (id, s)) in ids.iter().zip(secrets1).enumerate() {
        let mine = others(id);
        let (s2, out) = clk.time(i, || zf_dkg::part2(s, &mine)).map_err(|e| anyhow!("zf dkg 2: {e}"))?;
        secrets2.push(s2);
        for (to, pkg) in out {
            round2.entry(to).or_default().insert(*id, pkg);
        }
    }
    let mut keys = Vec::new();
    let mut public = None;
    for (i, (id, s2)) in ids.iter().zip(secrets2).enumerate() {
        let mine = others(id);
        let received = round2.remove(id).context("zf dkg: no round-2 packages")?;
        let (kp, pkp) = clk.time(i, || zf_dkg::part3(&s2, &mine, &received)).map_err(|e| anyhow!("zf dkg 3: {e}"))?;
        if public.as_ref().is_some_and(|p: &PublicKeyPackage<C>| p.verifying_key() != pkp.verifying_key()) {
            bail!("zf dkg: parties disagree on the key");
        }
        keys.push(kp);
        public = Some(pkp);
    }
    let others = u64::from(n) - 1;
    let bytes = others * (u64::from(t) * point_len + point_len + SCALAR_LEN) + others * SCALAR_LEN;
    Ok(((keys, public.context("no party")?), clk.cost(bytes)))
}

/// The ZF key refresh (`keys::refresh::refresh_dkg_part1`, `_part2`, `refresh_dkg_shares`),
/// every party in turn, of keys from [`zf_dkg`]. Bytes: round 1 broadcasts `t − 1` commitments
/// and a proof; round 2 a scalar to each other party.
pub fn zf_refresh<C: Ciphersuite>(
    rng: &mut ChaCha20Rng,
    keys: &ZfKeys<C>,
    t: u16,
    n: u16,
    point_len: u64,
) -> Result<Cost> {
    let ids = ids::<C>(n)?;
    let mut clk = Clocked::new(ids.len());
    let mut secrets1 = Vec::new();
    let mut round1 = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let (s, p) = clk
            .time(i, || zf_refresh::refresh_dkg_part1::<C, _>(*id, n, t, &mut *rng))
            .map_err(|e| anyhow!("zf refresh 1: {e}"))?;
        secrets1.push(s);
        round1.insert(*id, p);
    }
    let others = |me: &Identifier<C>| -> BTreeMap<_, _> {
        round1.iter().filter(|(k, _)| *k != me).map(|(k, v)| (*k, v.clone())).collect()
    };
    let mut secrets2 = Vec::new();
    let mut round2: BTreeMap<Identifier<C>, BTreeMap<Identifier<C>, _>> = BTreeMap::new();
    for (i, (id, s)) in ids.iter().zip(secrets1).enumerate() {
        let mine = others(id);
        let (s2, out) =
            clk.time(i, || zf_refresh::refresh_dkg_part2(s, &mine)).map_err(|e| anyhow!("zf refresh 2: {e}"))?;
        secrets2.push(s2);
        for (to, pkg) in out {
            round2.entry(to).or_default().insert(*id, pkg);
        }
    }
    let (old_keys, old_public) = keys;
    for (i, ((id, s2), old)) in ids.iter().zip(secrets2).zip(old_keys).enumerate() {
        let mine = others(id);
        let received = round2.remove(id).context("zf refresh: no round-2 packages")?;
        let (_, pkp) = clk
            .time(i, || zf_refresh::refresh_dkg_shares(&s2, &mine, &received, old_public.clone(), old.clone()))
            .map_err(|e| anyhow!("zf refresh 3: {e}"))?;
        if pkp.verifying_key() != old_public.verifying_key() {
            bail!("zf refresh changed the key");
        }
    }
    let others = u64::from(n) - 1;
    let bytes = others * ((u64::from(t) - 1) * point_len + point_len + SCALAR_LEN) + others * SCALAR_LEN;
    Ok(clk.cost(bytes))
}

/// Our refresh: a reshare to the same parties and threshold, every holder dealing.
pub fn our_refresh<C: Curve>(rng: &mut ChaCha20Rng, keys: &BTreeMap<PartyIndex, KeyShare<C>>) -> Result<Cost> {
    let first = keys.values().next().context("no key")?;
    let params = ReshareParams::refresh(first.public());
    let net = Network::new(rng, params.session_parties()?);
    let (out, cost) = our_simulate(&net, rng, |p, cfg, rng| {
        let key = keys.get(&p).context("key share")?;
        Ok(reshare::start::<C>(cfg, &params, ReshareInput::Holder(key), rng)?)
    })?;
    for o in out.values() {
        match o {
            ReshareOutput::Share(k, _) if k.public().public_key == first.public().public_key => {}
            _ => bail!("our refresh: wrong output"),
        }
    }
    Ok(cost)
}

/// Our reshare of a t-of-n key to a new group of n parties with the same threshold, in which
/// party 0 leaves and party n joins; the old signers are {0, …, t − 1}. Per party: mean over
/// the n + 1 parties of the session.
pub fn our_reshare<C: Curve>(
    rng: &mut ChaCha20Rng,
    keys: &BTreeMap<PartyIndex, KeyShare<C>>,
    t: u16,
    n: u16,
) -> Result<Cost> {
    let first = keys.values().next().context("no key")?;
    let params = ReshareParams {
        old_signers: PartySet::range(t)?,
        new_parties: PartySet::new((1..=n).map(PartyIndex))?,
        new_threshold: t,
    };
    let net = Network::new(rng, params.session_parties()?);
    let (out, cost) = our_simulate(&net, rng, |p, cfg, rng| {
        let input = match keys.get(&p) {
            Some(k) => ReshareInput::Holder(k),
            None => ReshareInput::Public(first.public()),
        };
        Ok(reshare::start::<C>(cfg, &params, input, rng)?)
    })?;
    let mut new_shares = 0;
    for o in out.values() {
        match o {
            ReshareOutput::Share(k, _) if k.public().public_key == first.public().public_key => new_shares += 1,
            ReshareOutput::Retired(_) => {}
            _ => bail!("our reshare: wrong output"),
        }
    }
    if new_shares != usize::from(n) {
        bail!("our reshare: {new_shares} new shares, expected {n}");
    }
    Ok(cost)
}

/// Our FROST signing session among the signers {0, …, t − 1}.
pub fn our_frost_sign<S: Scheme>(
    rng: &mut ChaCha20Rng,
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    t: u16,
) -> Result<Cost> {
    let signers = PartySet::range(t)?;
    let req = SignRequest::new([0x42u8; 32]);
    let net = Network::new(rng, signers);
    let (sigs, cost) = our_simulate(&net, rng, |p, cfg, rng| {
        let key = keys.get(&p).context("key share")?;
        Ok(conclave_frost::start::<S>(cfg, key, &req, rng)?)
    })?;
    if sigs.len() != usize::from(t) {
        bail!("our FROST: {} signatures", sigs.len());
    }
    Ok(cost)
}

/// The ZF crates' signing, every signer its own coordinator as in our driver: commit, sign,
/// then aggregate (which verifies the signature). With `verify_shares`, each signer also checks
/// every share with `verify_signature_share` before aggregating (as our driver does). Bytes:
/// the two nonce commitments and the share to each other signer.
pub fn zf_sign<C: Ciphersuite>(
    rng: &mut ChaCha20Rng,
    keys: &ZfKeys<C>,
    t: u16,
    point_len: u64,
    verify_shares: bool,
) -> Result<Cost> {
    let (key_packages, public) = keys;
    let signers: Vec<&KeyPackage<C>> = key_packages.iter().take(usize::from(t)).collect();
    let msg = [0x42u8; 32];
    let mut clk = Clocked::new(signers.len());
    let mut nonces = Vec::new();
    let mut commitments = BTreeMap::new();
    for (i, kp) in signers.iter().enumerate() {
        let (nn, c) = clk.time(i, || frost_core::round1::commit(kp.signing_share(), &mut *rng));
        nonces.push(nn);
        commitments.insert(*kp.identifier(), c);
    }
    let package = frost_core::SigningPackage::new(commitments, &msg);
    let mut shares = BTreeMap::new();
    for (i, (kp, nn)) in signers.iter().zip(&nonces).enumerate() {
        let z = clk.time(i, || frost_core::round2::sign(&package, nn, kp)).map_err(|e| anyhow!("zf sign: {e}"))?;
        shares.insert(*kp.identifier(), z);
    }
    for i in 0..signers.len() {
        clk.time(i, || -> Result<()> {
            if verify_shares {
                for (id, z) in &shares {
                    let vs = public.verifying_shares().get(id).context("verifying share")?;
                    frost_core::verify_signature_share(*id, vs, z, &package, public.verifying_key())
                        .map_err(|e| anyhow!("zf share: {e}"))?;
                }
            }
            let sig = frost_core::aggregate(&package, &shares, public).map_err(|e| anyhow!("zf aggregate: {e}"))?;
            std::hint::black_box(sig);
            Ok(())
        })?;
    }
    let bytes = (u64::from(t) - 1) * (2 * point_len + SCALAR_LEN);
    Ok(clk.cost(bytes))
}

/// ZF keys for signing only (trusted dealer; signing costs do not depend on how keys were made).
pub fn zf_dealer_keys<C: Ciphersuite>(rng: &mut ChaCha20Rng, t: u16, n: u16) -> Result<ZfKeys<C>> {
    let (shares, public) = frost_core::keys::generate_with_dealer::<C, _>(n, t, IdentifierList::Default, &mut *rng)
        .map_err(|e| anyhow!("zf dealer: {e}"))?;
    let keys = shares
        .into_values()
        .map(|s| KeyPackage::try_from(s).map_err(|e| anyhow!("zf key package: {e}")))
        .collect::<Result<Vec<_>>>()?;
    Ok((keys, public))
}
