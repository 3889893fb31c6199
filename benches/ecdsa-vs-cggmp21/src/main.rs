//! Side-by-side benchmark: Conclave's threshold ECDSA (CGGMP24) against `cggmp21` 0.6.3, both
//! run in the same process, one party after another on one thread, on secp256k1 with 1536-bit
//! safe primes generated in the run.
//!
//! What is measured, for both sides alike:
//! - **time per party**: the CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`) spent
//!   inside that party's calls (machine start, message handling / `proceed`), summed per party,
//!   mean over the parties. Thread CPU time is used, not wall time, because the machine is shared
//!   with other builds; the simulator's own bookkeeping and (for cggmp21) our message
//!   serialisation for counting are outside the clocked calls. A second figure is the thread CPU
//!   time of the whole simulated run divided by the number of parties.
//! - **bytes per party**: what a party sends, a broadcast counted once per recipient, largest
//!   over the parties. Ours: the exact envelopes our machines emit (authenticated, signed). Theirs:
//!   each message serialised with its serde derive through `bincode` 1, with rug's hex-string
//!   integers counted at their binary size (a second figure keeps the hex strings as they are).
//! - **aux-info including primes**: the aux-info protocol plus two safe primes per party at the
//!   mean per-prime CPU time measured over all primes each side generated in this run (ours with
//!   one thread, like `fast-paillier`'s generator).
//!
//! Also DKG, FROST signing, refresh and reshare beside the Zcash Foundation `frost-*` crates
//! (`schnorr.rs`), the same way.
//!
//! Usage (normally through `scripts/bench`, which writes docs/benchmarks.md from the JSON):
//! `cargo run --release --manifest-path benches/ecdsa-vs-cggmp21/Cargo.toml -- [--configs 2,3:3,5:5,10]
//! [--runs 3] [--large-runs 1] [--sign-runs 15] [--jobs 2] [--primes 0] [--seed 2024] [--json PATH]`.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

mod schnorr;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign;
use conclave_ecdsa::{sign, HashName, SignedData};
use conclave_keygen::{aux_info, AuxInfo, KeyShare};
use conclave_math::Secp256k1;
use conclave_paillier::{generate_safe_prime, DecryptionKey, Integer as OurInteger};
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::{MachineConfig, PartyIndex, PartySet, ProtocolError, StateMachine};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use cggmp21::round_based::state_machine::{ProceedResult, StateMachine as RbStateMachine};
use cggmp21::round_based::{Incoming, MessageDestination, MessageType};
use cggmp21::security_level::SecurityLevel128;
use cggmp21::supported_curves::Secp256k1 as CgSecp256k1;
use cggmp21::{DataToSign, ExecutionId, PregeneratedPrimes};

const PRIME_BITS: u32 = 1536;

// ---------------------------------------------------------------------------------------------
// Clocks

fn cpu_nanos(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids used are supported on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

fn thread_cpu() -> u64 {
    cpu_nanos(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn process_cpu() -> u64 {
    cpu_nanos(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// Per-party cost of one protocol run.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    /// Mean over parties of the thread CPU time inside each party's calls.
    ms: f64,
    /// Thread CPU time of the whole simulated run divided by the number of parties.
    run_ms: f64,
    /// Wall time of the whole simulated run divided by the number of parties.
    wall_ms: f64,
    /// Largest bytes sent by one party (integers in binary for cggmp21).
    bytes: u64,
    /// cggmp21 only: largest bytes sent with rug's hex-string integers as serialised.
    bytes_hex: u64,
}

// ---------------------------------------------------------------------------------------------
// Our side, driven exactly like `conclave demo` (crates/conclave-cli/src/demo.rs).

fn our_simulate<M: StateMachine>(
    net: &Network,
    rng: &mut ChaCha20Rng,
    mut start: impl FnMut(PartyIndex, MachineConfig, &mut ChaCha20Rng) -> Result<M>,
) -> Result<(BTreeMap<PartyIndex, M::Output>, Cost)> {
    let wall0 = Instant::now();
    let cpu0 = thread_cpu();
    let mut machines = BTreeMap::new();
    let mut start_nanos = BTreeMap::new();
    for p in net.parties.iter() {
        let cfg = net.config(p).context("simulated identity")?;
        let t0 = thread_cpu();
        machines.insert(p, start(p, cfg, rng)?);
        start_nanos.insert(p, thread_cpu() - t0);
    }
    let outcome = Simulation::new(net.clone(), machines, rng.next_u64()).with_clock(Box::new(thread_cpu)).run();
    let run_nanos = thread_cpu() - cpu0;
    let wall = wall0.elapsed().as_secs_f64() * 1e3;
    let mut outputs = BTreeMap::new();
    for (p, r) in outcome.results {
        outputs.insert(p, r.map_err(|e: ProtocolError| anyhow!("{p}: {e}"))?);
    }
    let n = outcome.stats.len().max(1) as f64;
    let ms = outcome
        .stats
        .iter()
        .map(|(p, s)| (s.compute_nanos + start_nanos.get(p).copied().unwrap_or(0)) as f64 / 1e6)
        .sum::<f64>()
        / n;
    let bytes = outcome.stats.values().map(|s| s.bytes_sent).max().unwrap_or(0);
    Ok((outputs, Cost { ms, run_ms: run_nanos as f64 / 1e6 / n, wall_ms: wall / n, bytes, bytes_hex: bytes }))
}

fn our_keygen(rng: &mut ChaCha20Rng, n: u16, t: u16) -> Result<(BTreeMap<PartyIndex, KeyShare<Secp256k1>>, Cost)> {
    schnorr::our_dkg::<Secp256k1>(rng, t, n)
}

fn our_aux(
    rng: &mut ChaCha20Rng,
    n: u16,
    primes: &[(OurInteger, OurInteger)],
) -> Result<(BTreeMap<PartyIndex, Arc<AuxInfo>>, Cost)> {
    let mut keys = BTreeMap::new();
    for p in 0..n {
        let (a, b) = primes.get(usize::from(p)).context("not enough primes")?;
        keys.insert(PartyIndex(p), DecryptionKey::from_safe_primes(a.clone(), b.clone())?);
    }
    let net = Network::new(rng, PartySet::range(n)?);
    let (aux, cost) = our_simulate(&net, rng, |p, cfg, rng| {
        let dk = keys.remove(&p).context("prime pair")?;
        Ok(aux_info::start(cfg, dk, rng)?)
    })?;
    Ok((aux.into_iter().map(|(p, a)| (p, Arc::new(a))).collect(), cost))
}

/// Presign then sign one SHA-256 message with the signer set {0, …, t−1}.
fn our_presign_sign(
    rng: &mut ChaCha20Rng,
    keys: &BTreeMap<PartyIndex, KeyShare<Secp256k1>>,
    aux: &BTreeMap<PartyIndex, Arc<AuxInfo>>,
    t: u16,
) -> Result<(Cost, Cost)> {
    let signers = PartySet::new((0..t).map(PartyIndex))?;
    let data = SignedData::Message { hash: HashName::Sha256, message: b"ecdsa-vs-cggmp21".to_vec() };
    let path = DerivationPath::root();
    let net = Network::new(rng, signers);
    let (mut presigs, presign_cost) = our_simulate(&net, rng, |p, cfg, rng| {
        let key = keys.get(&p).context("key share")?;
        let a = aux.get(&p).context("aux info")?.clone();
        Ok(presign::start::<Secp256k1>(cfg, key, a, &path, rng)?)
    })?;
    let net = net.in_session(conclave_protocol::SessionId::random(rng));
    let (sigs, sign_cost) = our_simulate(&net, rng, |p, cfg, rng| {
        let ps = presigs.remove(&p).context("presignature")?;
        Ok(sign::start::<Secp256k1>(cfg, ps, &data, rng)?)
    })?;
    let sig = sigs.values().next().context("no signature")?;
    if !sig.signature.verify(&sig.public_key, &data.digest()) {
        bail!("our signature does not verify");
    }
    Ok((presign_cost, sign_cost))
}

// ---------------------------------------------------------------------------------------------
// cggmp21's side: its round-based state machines, run by a simulator like round-based's own
// `sim::Simulation`, with a clock around every call into a party and a byte count of every
// message.

/// Bytes of a message as `bincode` of its serde form, and the same with rug's hex-string
/// integers counted at their binary size.
fn msg_bytes<T: serde::Serialize>(msg: &T) -> Result<(u64, u64)> {
    let hex_len = bincode::serialize(msg).context("bincode")?.len() as u64;
    let json = serde_json::to_value(msg).context("json")?;
    let mut saved = 0u64;
    count_hex_integers(&json, &mut saved);
    Ok((hex_len - saved, hex_len))
}

/// rug serialises an `Integer` as `{radix, value}` with `value` a hex string (radix 16) for
/// integers over 32 bits: half of those characters are overhead.
fn count_hex_integers(v: &serde_json::Value, saved: &mut u64) {
    match v {
        serde_json::Value::Object(m) => {
            if m.len() == 2 {
                if let (Some(serde_json::Value::Number(r)), Some(serde_json::Value::String(s))) =
                    (m.get("radix"), m.get("value"))
                {
                    if r.as_i64() == Some(16) {
                        let digits = s.trim_start_matches('-').len() as u64;
                        *saved += digits - digits.div_ceil(2);
                    }
                    return;
                }
            }
            m.values().for_each(|x| count_hex_integers(x, saved));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| count_hex_integers(x, saved)),
        _ => {}
    }
}

fn cg_simulate<'a, O, E, M, S>(parties: Vec<S>) -> Result<(Vec<O>, Cost)>
where
    S: RbStateMachine<Output = Result<O, E>, Msg = M> + 'a,
    M: Clone + serde::Serialize + 'static,
    E: std::fmt::Display,
{
    let n = parties.len();
    let wall0 = Instant::now();
    let cpu0 = thread_cpu();
    let mut nanos = vec![0u64; n];
    let mut bytes = vec![0u64; n];
    let mut bytes_hex = vec![0u64; n];
    let mut queues: Vec<std::collections::VecDeque<Incoming<M>>> = vec![Default::default(); n];
    let mut next_id = 0u64;
    enum St<S, O> {
        Active(S, bool),
        Done(O),
    }
    let mut states: Vec<St<S, O>> = parties.into_iter().map(|s| St::Active(s, false)).collect();
    let mut left = n;
    while left > 0 {
        let mut progressed = false;
        for i in 0..n {
            while let St::Active(party, wants) = &mut states[i] {
                if *wants {
                    let Some(m) = queues[i].pop_front() else { break };
                    let t0 = thread_cpu();
                    let r = party.received_msg(m);
                    nanos[i] += thread_cpu() - t0;
                    r.map_err(|_| anyhow!("cggmp21 party {i}: message not accepted"))?;
                    *wants = false;
                }
                let t0 = thread_cpu();
                let step = party.proceed();
                nanos[i] += thread_cpu() - t0;
                progressed = true;
                match step {
                    ProceedResult::SendMsg(out) => {
                        let (b, bh) = msg_bytes(&out.msg)?;
                        let sender = i as u16;
                        match out.recipient {
                            MessageDestination::AllParties => {
                                for (_, q) in queues.iter_mut().enumerate().filter(|(j, _)| *j != i) {
                                    q.push_back(Incoming {
                                        id: next_id,
                                        sender,
                                        msg_type: MessageType::Broadcast,
                                        msg: out.msg.clone(),
                                    });
                                    next_id += 1;
                                    bytes[i] += b;
                                    bytes_hex[i] += bh;
                                }
                            }
                            MessageDestination::OneParty(j) => {
                                queues.get_mut(usize::from(j)).context("unknown recipient")?.push_back(Incoming {
                                    id: next_id,
                                    sender,
                                    msg_type: MessageType::P2P,
                                    msg: out.msg,
                                });
                                next_id += 1;
                                bytes[i] += b;
                                bytes_hex[i] += bh;
                            }
                        }
                    }
                    ProceedResult::NeedsOneMoreMessage => *wants = true,
                    ProceedResult::Yielded => {}
                    ProceedResult::Output(out) => {
                        let out = out.map_err(|e| anyhow!("cggmp21 party {i}: {e}"))?;
                        states[i] = St::Done(out);
                        left -= 1;
                        break;
                    }
                    ProceedResult::Error(e) => bail!("cggmp21 party {i}: state machine: {e}"),
                }
            }
        }
        if !progressed && left > 0 {
            bail!("cggmp21 simulation stalled");
        }
    }
    let run_nanos = thread_cpu() - cpu0;
    let wall = wall0.elapsed().as_secs_f64() * 1e3;
    let outs = states
        .into_iter()
        .map(|s| match s {
            St::Done(o) => Ok(o),
            St::Active(..) => Err(anyhow!("unfinished party")),
        })
        .collect::<Result<Vec<_>>>()?;
    let nf = n as f64;
    let cost = Cost {
        ms: nanos.iter().sum::<u64>() as f64 / 1e6 / nf,
        run_ms: run_nanos as f64 / 1e6 / nf,
        wall_ms: wall / nf,
        bytes: bytes.iter().copied().max().unwrap_or(0),
        bytes_hex: bytes_hex.iter().copied().max().unwrap_or(0),
    };
    Ok((outs, cost))
}

type CgKeyShare = cggmp21::KeyShare<CgSecp256k1, SecurityLevel128>;
type CgIncomplete = cggmp21::IncompleteKeyShare<CgSecp256k1>;

fn cg_keygen(rng: &mut ChaCha20Rng, n: u16, t: u16) -> Result<(Vec<CgIncomplete>, Cost)> {
    let mut eid_bytes = [0u8; 32];
    rng.fill_bytes(&mut eid_bytes);
    let mut rngs: Vec<ChaCha20Rng> = (0..n).map(|_| ChaCha20Rng::seed_from_u64(rng.next_u64())).collect();
    let eid = ExecutionId::new(&eid_bytes);
    let parties = rngs
        .iter_mut()
        .zip(0u16..)
        .map(|(r, i)| cggmp21::keygen::<CgSecp256k1>(eid, i, n).set_threshold(t).into_state_machine(r))
        .collect::<Vec<_>>();
    cg_simulate(parties)
}

fn cg_aux(
    rng: &mut ChaCha20Rng,
    n: u16,
    primes: &[PregeneratedPrimes<SecurityLevel128>],
) -> Result<(Vec<cggmp21::key_share::AuxInfo<SecurityLevel128>>, Cost)> {
    let mut eid_bytes = [0u8; 32];
    rng.fill_bytes(&mut eid_bytes);
    let eid = ExecutionId::new(&eid_bytes);
    let mut rngs: Vec<ChaCha20Rng> = (0..n).map(|_| ChaCha20Rng::seed_from_u64(rng.next_u64())).collect();
    let parties = rngs
        .iter_mut()
        .zip(0u16..)
        .map(|(r, i)| {
            let pp = primes.get(usize::from(i)).cloned().context("not enough primes")?;
            Ok(cggmp21::aux_info_gen(eid, i, n, pp).into_state_machine(r))
        })
        .collect::<Result<Vec<_>>>()?;
    cg_simulate(parties)
}

fn cg_presign_sign(rng: &mut ChaCha20Rng, keys: &[CgKeyShare], t: u16) -> Result<(Cost, Cost)> {
    let signers: Vec<u16> = (0..t).collect();
    let mut eid_bytes = [0u8; 32];
    rng.fill_bytes(&mut eid_bytes);
    let eid = ExecutionId::new(&eid_bytes);
    let mut rngs: Vec<ChaCha20Rng> = (0..t).map(|_| ChaCha20Rng::seed_from_u64(rng.next_u64())).collect();
    let parties = rngs
        .iter_mut()
        .zip(0u16..)
        .map(|(r, i)| {
            cggmp21::signing(eid, i, &signers, &keys[usize::from(signers[usize::from(i)])])
                .generate_presignature_sync(r)
        })
        .collect::<Vec<_>>();
    let (presigs, presign_cost) = cg_simulate(parties)?;

    // Signing with a presignature is non-interactive in cggmp21: every signer issues a partial
    // signature and sends it to the others; each combines the t partials and (as we do before
    // releasing a signature) verifies the result.
    let data = DataToSign::<CgSecp256k1>::digest::<sha2::Sha256>(b"ecdsa-vs-cggmp21");
    let pk = keys[0].shared_public_key;
    let mut nanos = 0u64;
    let cpu0 = thread_cpu();
    let wall0 = Instant::now();
    let mut partials = Vec::new();
    for ps in presigs {
        let t0 = thread_cpu();
        partials.push(ps.issue_partial_signature(data));
        nanos += thread_cpu() - t0;
    }
    let partial_bytes = msg_bytes(&partials[0])?;
    for _ in 0..t {
        let t0 = thread_cpu();
        let sig = cggmp21::PartialSignature::combine(&partials).context("combine")?;
        sig.verify(&pk, &data).map_err(|_| anyhow!("cggmp21 signature does not verify"))?;
        nanos += thread_cpu() - t0;
    }
    let tf = f64::from(t);
    let sign_cost = Cost {
        ms: nanos as f64 / 1e6 / tf,
        run_ms: (thread_cpu() - cpu0) as f64 / 1e6 / tf,
        wall_ms: wall0.elapsed().as_secs_f64() * 1e3 / tf,
        bytes: partial_bytes.0 * u64::from(t - 1),
        bytes_hex: partial_bytes.1 * u64::from(t - 1),
    };
    Ok((presign_cost, sign_cost))
}

// ---------------------------------------------------------------------------------------------
// The run

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Median (field by field) of several runs.
fn med(costs: &[Cost]) -> Cost {
    let f = |g: fn(&Cost) -> f64| median(&mut costs.iter().map(g).collect::<Vec<_>>());
    Cost {
        ms: f(|c| c.ms),
        run_ms: f(|c| c.run_ms),
        wall_ms: f(|c| c.wall_ms),
        bytes: f(|c| c.bytes as f64) as u64,
        bytes_hex: f(|c| c.bytes_hex as f64) as u64,
    }
}

/// One line of the results: a protocol at one (t, n), ours beside the peer (if it has one).
#[derive(Debug, Clone)]
struct Row {
    /// Stable protocol key: dkg, aux-info, aux-info-protocol, presign, sign, frost-sign,
    /// refresh, reshare.
    protocol: &'static str,
    /// Curve or signature scheme.
    scheme: &'static str,
    t: u16,
    n: u16,
    runs: usize,
    ours: Cost,
    /// The peer and its cost (`None`: no peer for this protocol).
    peer: Option<(&'static str, Cost)>,
    /// A second peer figure (FROST: the ZF crates plus the share checks our driver does).
    alt: Option<(&'static str, Cost)>,
}

const CGGMP21: &str = "cggmp21 0.6.3";

/// Median over `runs` of `f`, which returns (ours, peer) for one run, run back to back.
fn pairs(runs: usize, mut f: impl FnMut() -> Result<(Cost, Cost)>) -> Result<(Cost, Cost)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (x, y) = f()?;
        a.push(x);
        b.push(y);
    }
    Ok((med(&a), med(&b)))
}

fn frost_sign_row<S: conclave_frost::Scheme>(rng: &mut ChaCha20Rng, t: u16, n: u16, runs: usize) -> Result<Row> {
    let point_len = <S::Curve as conclave_math::Curve>::POINT_LEN as u64;
    let (ours_keys, _) = schnorr::our_dkg::<S::Curve>(rng, t, n)?;
    let zf_keys = schnorr::zf_dealer_keys::<S::Suite>(rng, t, n)?;
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        a.push(schnorr::our_frost_sign::<S>(rng, &ours_keys, t)?);
        b.push(schnorr::zf_sign::<S::Suite>(rng, &zf_keys, t, point_len, false)?);
        c.push(schnorr::zf_sign::<S::Suite>(rng, &zf_keys, t, point_len, true)?);
    }
    Ok(Row {
        protocol: "frost-sign",
        scheme: S::ID.name(),
        t,
        n,
        runs: a.len(),
        ours: med(&a),
        peer: Some((zf_name(S::ID), med(&b))),
        alt: Some(("ZF + verify_signature_share of every share", med(&c))),
    })
}

fn zf_name(id: conclave_frost::SchemeId) -> &'static str {
    match id {
        conclave_frost::SchemeId::Ed25519 => "frost-ed25519 3.0",
        conclave_frost::SchemeId::Secp256k1 => "frost-secp256k1 3.0",
        conclave_frost::SchemeId::Bip340 => "frost-secp256k1-tr 3.0",
    }
}

/// Safe primes for both sides, made up front and shared by the configurations.
struct Primes {
    ours: Vec<(OurInteger, OurInteger)>,
    theirs: Vec<PregeneratedPrimes<SecurityLevel128>>,
    /// Mean CPU time per prime, ms.
    our_ms: f64,
    their_ms: f64,
}

/// `pairs` prime pairs per side, `jobs` pairs at a time, alternating sides so that both see
/// the same machine load. Each batch is timed with the process CPU clock (nothing else runs in
/// the process meanwhile; our generator searches on a thread of its own), so the figure is the
/// mean CPU time per prime.
fn gen_primes(rng: &mut ChaCha20Rng, pairs: usize, jobs: usize) -> Result<Primes> {
    let one = NonZeroUsize::MIN;
    let mut out = Primes { ours: Vec::new(), theirs: Vec::new(), our_ms: 0.0, their_ms: 0.0 };
    let (mut our_nanos, mut their_nanos) = (0u64, 0u64);
    while out.ours.len() < pairs {
        let k = jobs.max(1).min(pairs - out.ours.len());
        let seeds: Vec<u64> = (0..k).map(|_| rng.next_u64()).collect();
        let t0 = process_cpu();
        let ours: Vec<Result<(OurInteger, OurInteger)>> = std::thread::scope(|s| {
            let hs: Vec<_> = seeds
                .iter()
                .map(|&sd| {
                    s.spawn(move || -> Result<(OurInteger, OurInteger)> {
                        let mut r = ChaCha20Rng::seed_from_u64(sd);
                        Ok((
                            generate_safe_prime(&mut r, PRIME_BITS, one)?,
                            generate_safe_prime(&mut r, PRIME_BITS, one)?,
                        ))
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().map_err(|_| anyhow!("prime thread panicked"))?).collect()
        });
        let t1 = process_cpu();
        let theirs: Vec<Result<PregeneratedPrimes<SecurityLevel128>>> = std::thread::scope(|s| {
            let hs: Vec<_> = seeds
                .iter()
                .map(|&sd| {
                    s.spawn(move || -> Result<PregeneratedPrimes<SecurityLevel128>> {
                        let mut r = ChaCha20Rng::seed_from_u64(sd ^ 0x5eed);
                        let (p, q) = PregeneratedPrimes::<SecurityLevel128>::generate(&mut r).split();
                        if p.significant_bits() != PRIME_BITS || q.significant_bits() != PRIME_BITS {
                            bail!("cggmp21 primes are not {PRIME_BITS}-bit");
                        }
                        PregeneratedPrimes::<SecurityLevel128>::new(p, q).context("cggmp21 primes")
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().map_err(|_| anyhow!("prime thread panicked"))?).collect()
        });
        let t2 = process_cpu();
        our_nanos += t1 - t0;
        their_nanos += t2 - t1;
        for r in ours {
            out.ours.push(r?);
        }
        for r in theirs {
            out.theirs.push(r?);
        }
        eprintln!(
            "  primes {}/{pairs} pairs: ours {:.1} s, cggmp21 {:.1} s CPU for {k} pair(s)",
            out.ours.len(),
            (t1 - t0) as f64 / 1e9,
            (t2 - t1) as f64 / 1e9
        );
    }
    let count = 2.0 * out.ours.len() as f64;
    out.our_ms = our_nanos as f64 / 1e6 / count;
    out.their_ms = their_nanos as f64 / 1e6 / count;
    Ok(out)
}

fn run_config(t: u16, n: u16, a: &Args, primes: &Primes, seed: u64) -> Result<Vec<Row>> {
    use conclave_frost::{Bip340, Ed25519 as FrostEd25519, Scheme, Secp256k1 as FrostSecp256k1};
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let rng = &mut rng;
    let fast = a.sign_runs.max(1);
    let slow = if n >= 10 { a.large_runs.max(1) } else { a.runs.max(1) };
    let presign_runs = a.runs.max(1);
    let mut rows = Vec::new();
    let row = |protocol, scheme, runs, ours, peer: Option<(&'static str, Cost)>| Row {
        protocol,
        scheme,
        t,
        n,
        runs,
        ours,
        peer,
        alt: None,
    };

    // DKG: ours on secp256k1 against cggmp21's threshold keygen; ours on Ed25519 against the
    // ZF DKG. The keys of the last run serve the protocols below.
    eprintln!("({t},{n}): DKG");
    let mut our_keys = None;
    let mut cg_cores = None;
    let (o, c) = pairs(fast, || {
        let (k, c1) = our_keygen(rng, n, t)?;
        let (k2, c2) = cg_keygen(rng, n, t)?;
        our_keys = Some(k);
        cg_cores = Some(k2);
        Ok((c1, c2))
    })?;
    rows.push(row("dkg", "secp256k1", fast, o, Some((CGGMP21, c))));
    let our_keys = our_keys.context("no keygen")?;
    let cg_cores = cg_cores.context("no keygen")?;
    type EdSuite = <FrostEd25519 as Scheme>::Suite;
    let (o, c) = pairs(fast, || {
        let (_, c1) = schnorr::our_dkg::<conclave_math::Ed25519>(rng, t, n)?;
        let (_, c2) = schnorr::zf_dkg::<EdSuite>(rng, t, n, 32)?;
        Ok((c1, c2))
    })?;
    rows.push(row("dkg", "ed25519", fast, o, Some(("frost-ed25519 3.0", c))));

    // Aux-info, with the primes made up front.
    let mut our_aux_last = None;
    let mut cg_aux_last = None;
    let mut k = 0;
    let (o, c) = pairs(slow, || {
        let (aux, c1) = our_aux(rng, n, &primes.ours)?;
        let (aux2, c2) = cg_aux(rng, n, &primes.theirs)?;
        our_aux_last = Some(aux);
        cg_aux_last = Some(aux2);
        k += 1;
        eprintln!("({t},{n}): aux-info run {k}: ours {:.2} s, cggmp21 {:.2} s", c1.ms / 1e3, c2.ms / 1e3);
        Ok((c1, c2))
    })?;
    let with_primes = |c: Cost, prime: f64| Cost { ms: c.ms + 2.0 * prime, run_ms: c.run_ms + 2.0 * prime, ..c };
    rows.push(row(
        "aux-info",
        "ecdsa-secp256k1",
        slow,
        with_primes(o, primes.our_ms),
        Some((CGGMP21, with_primes(c, primes.their_ms))),
    ));
    rows.push(row("aux-info-protocol", "ecdsa-secp256k1", slow, o, Some((CGGMP21, c))));
    let our_aux_info = our_aux_last.context("no aux run")?;
    let cg_keys: Vec<CgKeyShare> = cg_cores
        .into_iter()
        .zip(cg_aux_last.context("no aux run")?)
        .map(|(core, aux)| cggmp21::KeyShare::from_parts((core, aux)).map_err(|e| anyhow!("cggmp21 key share: {e}")))
        .collect::<Result<_>>()?;

    // Presign and sign.
    let (mut our_pre, mut our_sig, mut cg_pre, mut cg_sig) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in 0..presign_runs {
        let (p, s) = our_presign_sign(rng, &our_keys, &our_aux_info, t)?;
        let (p2, s2) = cg_presign_sign(rng, &cg_keys, t)?;
        if r < presign_runs {
            eprintln!("({t},{n}): presign run {}: ours {:.0} ms, cggmp21 {:.0} ms", r + 1, p.ms, p2.ms);
        }
        our_pre.push(p);
        our_sig.push(s);
        cg_pre.push(p2);
        cg_sig.push(s2);
    }
    rows.push(row("presign", "ecdsa-secp256k1", our_pre.len(), med(&our_pre), Some((CGGMP21, med(&cg_pre)))));
    rows.push(row("sign", "ecdsa-secp256k1", our_sig.len(), med(&our_sig), Some((CGGMP21, med(&cg_sig)))));

    // FROST signing.
    eprintln!("({t},{n}): FROST, refresh, reshare");
    rows.push(frost_sign_row::<FrostEd25519>(rng, t, n, fast)?);
    rows.push(frost_sign_row::<FrostSecp256k1>(rng, t, n, fast)?);
    rows.push(frost_sign_row::<Bip340>(rng, t, n, fast)?);

    // Refresh: ours (a reshare to the same group) against frost-core's refresh DKG, on
    // secp256k1. Reshare: ours alone.
    type K1Suite = <FrostSecp256k1 as Scheme>::Suite;
    let (zf_keys, _) = schnorr::zf_dkg::<K1Suite>(rng, t, n, 33)?;
    let (o, c) = pairs(fast, || {
        Ok((schnorr::our_refresh(rng, &our_keys)?, schnorr::zf_refresh::<K1Suite>(rng, &zf_keys, t, n, 33)?))
    })?;
    rows.push(row("refresh", "secp256k1", fast, o, Some(("frost-secp256k1 3.0 refresh_dkg", c))));
    let mut re = Vec::new();
    for _ in 0..fast {
        re.push(schnorr::our_reshare(rng, &our_keys, t, n)?);
    }
    rows.push(row("reshare", "secp256k1", fast, med(&re), None));
    eprintln!("({t},{n}): done");
    Ok(rows)
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn fmt_bytes(b: u64) -> String {
    if b >= 10 * 1024 {
        format!("{:.0} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| protocol | scheme | (t,n) | runs | ours ms/party | peer ms/party | ratio | ours bytes/party | peer bytes/party | ratio | peer |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (pm, pr, pb, pbr, pn) = match &r.peer {
            Some((name, c)) => (
                fmt_ms(c.ms),
                format!("{:.2}×", r.ours.ms / c.ms),
                fmt_bytes(c.bytes),
                format!("{:.2}×", r.ours.bytes as f64 / c.bytes as f64),
                *name,
            ),
            None => ("—".into(), "—".into(), "—".into(), "—".into(), "none"),
        };
        println!(
            "| {} | {} | ({},{}) | {} | {} | {pm} | {pr} | {} | {pb} | {pbr} | {pn} |",
            r.protocol,
            r.scheme,
            r.t,
            r.n,
            r.runs,
            fmt_ms(r.ours.ms),
            fmt_bytes(r.ours.bytes),
        );
    }
    println!();
}

fn cost_json(c: &Cost) -> serde_json::Value {
    serde_json::json!({ "ms": c.ms, "run_ms": c.run_ms, "bytes": c.bytes })
}

fn results_json(a: &Args, primes: &Primes, rows: &[Row], seconds: f64) -> serde_json::Value {
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "protocol": r.protocol,
                "scheme": r.scheme,
                "t": r.t,
                "n": r.n,
                "runs": r.runs,
                "ours": cost_json(&r.ours),
                "peer": serde_json::Value::Null,
                "alt": serde_json::Value::Null,
            });
            if let Some((name, c)) = &r.peer {
                let mut p = cost_json(c);
                p["name"] = (*name).into();
                if r.protocol.starts_with("aux-info") || r.protocol == "presign" {
                    p["bytes_hex_integers"] = c.bytes_hex.into();
                }
                v["peer"] = p;
                v["ratio_ms"] = (r.ours.ms / c.ms).into();
                v["ratio_bytes"] = (r.ours.bytes as f64 / c.bytes as f64).into();
            }
            if let Some((name, c)) = &r.alt {
                let mut p = cost_json(c);
                p["name"] = (*name).into();
                v["alt"] = p;
                v["ratio_alt_ms"] = (r.ours.ms / c.ms).into();
            }
            v
        })
        .collect();
    serde_json::json!({
        "harness": "benches/ecdsa-vs-cggmp21",
        "measure": "per party: thread CPU time inside the party's calls, mean over parties, median over runs; bytes sent, largest over parties",
        "args": {
            "configs": a.configs.iter().map(|(t, n)| vec![*t, *n]).collect::<Vec<_>>(),
            "runs": a.runs, "large_runs": a.large_runs, "sign_runs": a.sign_runs, "jobs": a.jobs, "seed": a.seed,
        },
        "primes": {
            "bits": PRIME_BITS,
            "per_side": 2 * primes.ours.len(),
            "ours_mean_ms": primes.our_ms,
            "peer_mean_ms": primes.their_ms,
        },
        "seconds": seconds,
        "rows": rows,
    })
}

struct Args {
    configs: Vec<(u16, u16)>,
    /// Runs of aux-info (n < 10) and of presign with sign.
    runs: usize,
    /// Runs of aux-info for n ≥ 10.
    large_runs: usize,
    /// Runs of the cheap protocols (DKG, sign, FROST, refresh, reshare).
    sign_runs: usize,
    primes: usize,
    jobs: usize,
    seed: u64,
    json: Option<String>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        configs: vec![(2, 3), (3, 5), (5, 10)],
        runs: 3,
        large_runs: 1,
        sign_runs: 15,
        primes: 0,
        jobs: 2,
        seed: 2024,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--configs" => {
                a.configs = v
                    .split(':')
                    .map(|c| {
                        let (t, n) = c.split_once(',').context("config is t,n")?;
                        Ok((t.parse()?, n.parse()?))
                    })
                    .collect::<Result<_>>()?
            }
            "--runs" => a.runs = v.parse()?,
            "--large-runs" => a.large_runs = v.parse()?,
            "--sign-runs" => a.sign_runs = v.parse()?,
            "--primes" => a.primes = v.parse()?,
            "--jobs" => a.jobs = v.parse()?,
            "--seed" => a.seed = v.parse()?,
            "--json" => a.json = Some(v),
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let started = Instant::now();
    let args = parse_args()?;
    let n_max = args.configs.iter().map(|c| c.1).max().context("no config")?;
    let prime_pairs = usize::from(n_max).max(args.primes.div_ceil(2));
    let mut rng = ChaCha20Rng::seed_from_u64(args.seed);
    eprintln!(
        "bench: configs {:?}, runs {} (aux-info at n ≥ 10: {}), cheap protocols {}, {} safe-prime pairs per side, {} jobs; thread CPU time per party",
        args.configs, args.runs, args.large_runs, args.sign_runs, prime_pairs, args.jobs
    );
    let primes = gen_primes(&mut rng, prime_pairs, args.jobs)?;
    println!(
        "safe primes ({PRIME_BITS} bits, CPU time, one thread each): ours mean {:.2} s, cggmp21 (fast-paillier) mean {:.2} s over {} primes each; ratio {:.2}×",
        primes.our_ms / 1e3,
        primes.their_ms / 1e3,
        2 * primes.ours.len(),
        primes.our_ms / primes.their_ms
    );

    // The configurations run on `jobs` threads, largest first; each party's time is its own
    // thread's CPU time, so concurrent configurations do not count each other's work.
    let mut queue: Vec<(usize, (u16, u16), u64)> =
        args.configs.iter().enumerate().map(|(i, &c)| (i, c, rng.next_u64())).collect();
    queue.sort_by_key(|(_, (_, n), _)| *n);
    let queue = std::sync::Mutex::new(queue);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..args.jobs.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((i, (t, n), seed)) = next else { break };
                let r = run_config(t, n, &args, &primes, seed);
                if let Ok(rows) = &r {
                    print_table(rows);
                }
                if let Ok(mut res) = results.lock() {
                    res.push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().map_err(|_| anyhow!("poisoned"))?;
    results.sort_by_key(|(i, _)| *i);
    let mut rows = Vec::new();
    for (_, r) in results {
        rows.extend(r?);
    }
    println!("## all configurations");
    print_table(&rows);
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.json {
        let v = results_json(&args, &primes, &rows, seconds);
        std::fs::write(path, serde_json::to_string_pretty(&v)? + "\n").with_context(|| format!("writing {path}"))?;
        eprintln!("wrote {path}");
    }
    eprintln!("bench: {seconds:.0} s");
    Ok(())
}
