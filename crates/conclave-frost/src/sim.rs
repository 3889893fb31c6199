//! In-process signing (feature `sim`): every signer's [`Machine`] driven by the simulator of
//! `conclave_protocol::sim`, as the demo and the benchmarks use it.

use std::collections::BTreeMap;

use conclave_keygen::KeyShare;
use conclave_protocol::sim::{Network, SimOutcome, Simulation};
use conclave_protocol::{Machine, PartyIndex, PartySet};
use rand_core::CryptoRngCore;

use crate::error::SignError;
use crate::scheme::Scheme;
use crate::signing::{start, SignRequest, Signing, ThresholdSignature};

/// One machine per signer of `net.parties`, each with its key share from `keys`.
pub fn machines<S: Scheme>(
    net: &Network,
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    request: &SignRequest,
    rng: &mut dyn CryptoRngCore,
) -> Result<BTreeMap<PartyIndex, Machine<Signing<S>>>, SignError> {
    let mut out = BTreeMap::new();
    for p in net.parties.iter() {
        let key = keys.get(&p).ok_or_else(|| SignError::InvalidInput(format!("no key share for {p}")))?;
        let cfg = net.config(p).ok_or_else(|| SignError::InvalidInput(format!("no identity for {p}")))?;
        out.insert(p, start::<S>(cfg, key, request, rng)?);
    }
    Ok(out)
}

/// Runs a signing session among `net.parties` in the simulator; every signer's result.
pub fn run<S: Scheme>(
    net: &Network,
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    request: &SignRequest,
    rng: &mut dyn CryptoRngCore,
) -> Result<SimOutcome<ThresholdSignature>, SignError> {
    let ms = machines::<S>(net, keys, request, rng)?;
    Ok(Simulation::new(net.clone(), ms, rng.next_u64()).run())
}

/// Signs `request` with the shares of `signers` (fresh identities and session id), in one
/// process: what `conclave demo` calls. Returns the signature every signer agreed on.
pub fn sign_in_process<S: Scheme>(
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    signers: &PartySet,
    request: &SignRequest,
    rng: &mut dyn CryptoRngCore,
) -> Result<ThresholdSignature, SignError> {
    let net = Network::new(rng, signers.clone());
    let outcome = run::<S>(&net, keys, request, rng)?;
    let mut agreed: Option<ThresholdSignature> = None;
    for (_, r) in outcome.results {
        let sig = r?;
        match &agreed {
            None => agreed = Some(sig),
            Some(a) if *a == sig => {}
            Some(_) => return Err(SignError::Bug("signers released different signatures")),
        }
    }
    agreed.ok_or(SignError::Bug("no signer"))
}
