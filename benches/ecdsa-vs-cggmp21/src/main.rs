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
//! Usage: `cargo run --release --manifest-path benches/ecdsa-vs-cggmp21/Cargo.toml -- [--configs 2,3:3,5]
//! [--runs 3] [--sign-runs 9] [--primes 20] [--seed 2024]`; results in `docs/benchmarks.md`.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign;
use conclave_ecdsa::{sign, HashName, SignedData};
use conclave_keygen::{aux_info, dkg, AuxInfo, KeyShare};
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

fn our_keygen(rng: &mut ChaCha20Rng, n: u16, t: u16) -> Result<BTreeMap<PartyIndex, KeyShare<Secp256k1>>> {
    let net = Network::new(rng, PartySet::range(n)?);
    let (shares, _) = our_simulate(&net, rng, |_, cfg, rng| Ok(dkg::start::<Secp256k1>(cfg, t, rng)?))?;
    let first = shares.values().next().context("no party")?;
    if !shares.values().all(|s| s.public() == first.public()) {
        bail!("our DKG: parties disagree on the key");
    }
    Ok(shares)
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
            loop {
                let St::Active(party, wants) = &mut states[i] else { break };
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

fn cg_keygen(rng: &mut ChaCha20Rng, n: u16, t: u16) -> Result<Vec<CgIncomplete>> {
    let mut eid_bytes = [0u8; 32];
    rng.fill_bytes(&mut eid_bytes);
    let mut rngs: Vec<ChaCha20Rng> = (0..n).map(|_| ChaCha20Rng::seed_from_u64(rng.next_u64())).collect();
    let eid = ExecutionId::new(&eid_bytes);
    let parties = rngs
        .iter_mut()
        .zip(0u16..)
        .map(|(r, i)| {
            cggmp21::keygen::<CgSecp256k1>(eid, i, n)
                .set_threshold(t)
                .into_state_machine(r)
        })
        .collect::<Vec<_>>();
    let (shares, _) = cg_simulate(parties)?;
    Ok(shares)
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

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
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

struct Row {
    protocol: &'static str,
    t: u16,
    n: u16,
    ours: Cost,
    theirs: Cost,
    runs: usize,
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
    println!("| protocol | (t,n) | runs | ours ms/party | cggmp21 ms/party | ratio | ours run/n | cggmp21 run/n | ratio | ours bytes/party | cggmp21 bytes/party | ratio | cggmp21 bytes (hex ints) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | ({},{}) | {} | {} | {} | {:.2}× | {} | {} | {:.2}× | {} | {} | {:.2}× | {} |",
            r.protocol,
            r.t,
            r.n,
            r.runs,
            fmt_ms(r.ours.ms),
            fmt_ms(r.theirs.ms),
            r.ours.ms / r.theirs.ms,
            fmt_ms(r.ours.run_ms),
            fmt_ms(r.theirs.run_ms),
            r.ours.run_ms / r.theirs.run_ms,
            fmt_bytes(r.ours.bytes),
            fmt_bytes(r.theirs.bytes),
            r.ours.bytes as f64 / r.theirs.bytes as f64,
            fmt_bytes(r.theirs.bytes_hex),
        );
    }
    println!();
}

struct Args {
    configs: Vec<(u16, u16)>,
    runs: usize,
    sign_runs: usize,
    primes: usize,
    seed: u64,
}

fn parse_args() -> Result<Args> {
    let mut a = Args { configs: vec![(2, 3), (3, 5)], runs: 3, sign_runs: 9, primes: 0, seed: 2024 };
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
            "--sign-runs" => a.sign_runs = v.parse()?,
            "--primes" => a.primes = v.parse()?,
            "--seed" => a.seed = v.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let n_max = args.configs.iter().map(|c| c.1).max().context("no config")?;
    let prime_pairs = usize::from(n_max).max(args.primes.div_ceil(2));
    let mut rng = ChaCha20Rng::seed_from_u64(args.seed);
    eprintln!(
        "ecdsa-vs-cggmp21: configs {:?}, {} runs (sign {}), {} safe-prime pairs per side; thread CPU time per party",
        args.configs, args.runs, args.sign_runs, prime_pairs
    );

    // Safe primes, alternating sides so that both see the same machine load.
    let one = NonZeroUsize::MIN;
    let mut our_primes = Vec::new();
    let mut cg_primes = Vec::new();
    let (mut our_prime_ms, mut cg_prime_ms) = (Vec::new(), Vec::new());
    for k in 0..prime_pairs {
        let t0 = process_cpu();
        let a = generate_safe_prime(&mut rng, PRIME_BITS, one)?;
        let t1 = process_cpu();
        let b = generate_safe_prime(&mut rng, PRIME_BITS, one)?;
        let t2 = process_cpu();
        our_prime_ms.push((t1 - t0) as f64 / 1e6);
        our_prime_ms.push((t2 - t1) as f64 / 1e6);
        our_primes.push((a, b));
        let t0 = process_cpu();
        let (p, q) = PregeneratedPrimes::<SecurityLevel128>::generate(&mut rng).split();
        let t1 = process_cpu();
        // `generate` makes both primes in one call: split its time evenly.
        cg_prime_ms.push((t1 - t0) as f64 / 2e6);
        cg_prime_ms.push((t1 - t0) as f64 / 2e6);
        if p.significant_bits() != PRIME_BITS || q.significant_bits() != PRIME_BITS {
            bail!("cggmp21 primes are not {PRIME_BITS}-bit");
        }
        cg_primes.push(PregeneratedPrimes::<SecurityLevel128>::new(p, q).context("cggmp21 primes")?);
        eprintln!(
            "  primes {}/{}: ours {:.1}+{:.1} s, cggmp21 {:.1} s (pair)",
            k + 1,
            prime_pairs,
            our_prime_ms[2 * k] / 1e3,
            our_prime_ms[2 * k + 1] / 1e3,
            (t1 - t0) as f64 / 1e9
        );
    }
    let our_prime = mean(&our_prime_ms);
    let cg_prime = mean(&cg_prime_ms);
    let pair_mean = |v: &[f64]| {
        let pairs: Vec<f64> = v.chunks(2).map(|c| c.iter().sum()).collect();
        let mut pairs = pairs;
        median(&mut pairs)
    };
    println!(
        "safe primes ({PRIME_BITS} bits, CPU time, one thread): ours mean {:.2} s / median pair {:.2} s over {} primes; cggmp21 (fast-paillier) mean {:.2} s / median pair {:.2} s over {} primes; ratio of means {:.2}×",
        our_prime / 1e3,
        pair_mean(&our_prime_ms) / 1e3,
        our_prime_ms.len(),
        cg_prime / 1e3,
        pair_mean(&cg_prime_ms) / 1e3,
        cg_prime_ms.len(),
        our_prime / cg_prime
    );

    let mut rows = Vec::new();
    for &(t, n) in &args.configs {
        eprintln!("({t},{n}): keys");
        let our_keys = our_keygen(&mut rng, n, t)?;
        let cg_cores = cg_keygen(&mut rng, n, t)?;

        let (mut our_aux_costs, mut cg_aux_costs) = (Vec::new(), Vec::new());
        let mut our_aux_last = None;
        let mut cg_aux_last = None;
        for r in 0..args.runs {
            let (aux, c) = our_aux(&mut rng, n, &our_primes)?;
            our_aux_costs.push(c);
            our_aux_last = Some(aux);
            let (aux, c2) = cg_aux(&mut rng, n, &cg_primes)?;
            cg_aux_costs.push(c2);
            cg_aux_last = Some(aux);
            eprintln!("  aux-info run {}: ours {:.2} s, cggmp21 {:.2} s", r + 1, c.ms / 1e3, c2.ms / 1e3);
        }
        let our_aux_info = our_aux_last.context("no aux run")?;
        let cg_keys: Vec<CgKeyShare> = cg_cores
            .into_iter()
            .zip(cg_aux_last.context("no aux run")?)
            .map(|(core, aux)| cggmp21::KeyShare::from_parts((core, aux)).map_err(|e| anyhow!("cggmp21 key share: {e}")))
            .collect::<Result<_>>()?;

        let (mut our_pre, mut our_sig, mut cg_pre, mut cg_sig) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in 0..args.runs.max(args.sign_runs) {
            let (p, s) = our_presign_sign(&mut rng, &our_keys, &our_aux_info, t)?;
            let (p2, s2) = cg_presign_sign(&mut rng, &cg_keys, t)?;
            if r < args.runs {
                eprintln!("  presign run {}: ours {:.0} ms, cggmp21 {:.0} ms", r + 1, p.ms, p2.ms);
            }
            our_pre.push(p);
            our_sig.push(s);
            cg_pre.push(p2);
            cg_sig.push(s2);
        }

        let our_aux_m = med(&our_aux_costs);
        let cg_aux_m = med(&cg_aux_costs);
        let with_primes = |c: Cost, prime: f64| Cost {
            ms: c.ms + 2.0 * prime,
            run_ms: c.run_ms + 2.0 * prime,
            wall_ms: c.wall_ms,
            ..c
        };
        rows.push(Row {
            protocol: "aux-info incl. 2 primes",
            t,
            n,
            ours: with_primes(our_aux_m, our_prime),
            theirs: with_primes(cg_aux_m, cg_prime),
            runs: args.runs,
        });
        rows.push(Row { protocol: "aux-info protocol only", t, n, ours: our_aux_m, theirs: cg_aux_m, runs: args.runs });
        rows.push(Row { protocol: "presign", t, n, ours: med(&our_pre), theirs: med(&cg_pre), runs: our_pre.len() });
        rows.push(Row { protocol: "sign", t, n, ours: med(&our_sig), theirs: med(&cg_sig), runs: our_sig.len() });
        print_table(&rows[rows.len() - 4..]);
    }
    println!("## all configurations");
    print_table(&rows);
    Ok(())
}
