//! Round 2: judge every verdict identically; output the new share and the hand-over receipt,
//! or abort (spec steps 3.1–3.5).

use std::collections::BTreeMap;

use conclave_math::codec::Decode;
use conclave_math::vss::VssCommitment;
use conclave_math::{Curve, SecretScalar};
use conclave_protocol::envelope::payload_digest;
use conclave_protocol::fault::push_culprit;
use conclave_protocol::{
    Culprit, Delivery, Fault, MessageKind, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput, SignedStatement,
};

use super::msg::{Accusation, Verdict};
use super::round1::check_direct;
use super::{Context, HandoverReceipt, PendingHandover, ReshareOutput, PROTOCOL};
use crate::key_share::{KeyShare, PublicKeyShare};

/// Round 2 expects one reliable broadcast from everyone.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(2), broadcast: Some(Delivery::Reliable), direct: false };

/// What party `i` keeps after round 2's messages went out.
#[derive(Debug)]
pub struct State<C: Curve> {
    ctx: Context<C>,
    commitments: BTreeMap<PartyIndex, VssCommitment<C>>,
    new_public: PublicKeyShare<C>,
    hash: [u8; 32],
    /// Our new share, if we are new and confirmed.
    secret: Option<SecretScalar<C>>,
    own_verdict: Verdict,
}

impl<C: Curve> State<C> {
    pub(crate) fn new(
        ctx: Context<C>,
        commitments: BTreeMap<PartyIndex, VssCommitment<C>>,
        new_public: PublicKeyShare<C>,
        hash: [u8; 32],
        secret: Option<SecretScalar<C>>,
        own_verdict: Verdict,
    ) -> Self {
        Self { ctx, commitments, new_public, hash, secret, own_verdict }
    }

    /// What we hold once our verdict is a confirmation: the new sharing we confirmed and our
    /// new share (if we are new). Everything needed to finish the hand-over later from any
    /// party's receipt, should the last messages not reach us (spec step 3.6).
    pub(crate) fn pending(&self) -> Option<PendingHandover<C>> {
        let Verdict::Confirm { hash } = &self.own_verdict else { return None };
        Some(PendingHandover {
            session: self.ctx.session,
            old_key_id: self.ctx.old.key_id,
            old_signers: self.ctx.params.old_signers.clone(),
            confirmation: *hash,
            new_public: self.new_public.clone(),
            share: self.secret.as_ref().map(|s| KeyShare::new(self.new_public.clone(), self.ctx.me, s.clone_secret())),
        })
    }

    /// The accused party's signed statement for the round-1 direct message an accusation
    /// quotes, if it is well-formed and really signed by the accused.
    fn authentic(&self, accuser: PartyIndex, a: &Accusation) -> Option<SignedStatement> {
        if a.accused == accuser || !self.ctx.parties.contains(a.accused) {
            return None;
        }
        let st = SignedStatement {
            protocol: PROTOCOL.to_owned(),
            session: self.ctx.session,
            round: super::round1::INFO.id,
            kind: MessageKind::Direct,
            sender: a.accused,
            recipient: Some(accuser),
            digest: payload_digest(&a.payload),
            signature: a.signature,
        };
        let key = self.ctx.peers.get(&a.accused)?;
        st.verify(key).then_some(st)
    }

    /// Steps 3.1–3.5. Every honest party runs this on the same (echo-agreed) verdicts and so
    /// reaches the same result.
    pub(crate) fn proceed(self, input: RoundInput) -> Result<ReshareOutput<C>, ProtocolError> {
        let round = INFO.id;
        let me = self.ctx.me;
        let mut culprits = Vec::new();
        // 3.1 Everyone's verdict, ours included.
        let mut verdicts = BTreeMap::new();
        let mut statements = BTreeMap::new();
        verdicts.insert(me, self.own_verdict.clone());
        for (k, msg) in input.broadcasts {
            match Verdict::from_bytes(&msg.payload) {
                Ok(v) => {
                    verdicts.insert(k, v);
                    statements.insert(k, msg.statement);
                }
                Err(_) => push_culprit(&mut culprits, Culprit::with_message(k, round, Fault::Malformed, msg.statement)),
            }
        }
        for (k, v) in &verdicts {
            match v {
                // 3.2 Each accusation quotes a direct message the accused signed to the
                // accuser; re-run the check of 2.2 on it: a failure blames the accused, a pass
                // the accuser.
                Verdict::Complaint { accusations } => {
                    for a in accusations {
                        let Some(st) = self.authentic(*k, a) else {
                            push_culprit(&mut culprits, Culprit::new(*k, round, Fault::FalseComplaint));
                            continue;
                        };
                        let vss = self.commitments.get(&a.accused);
                        match check_direct(&self.ctx, vss, a.accused, *k, &a.payload) {
                            Err(fault) => push_culprit(
                                &mut culprits,
                                Culprit::with_message(a.accused, super::round1::INFO.id, fault, st),
                            ),
                            Ok(_) => push_culprit(&mut culprits, Culprit::new(*k, round, Fault::FalseComplaint)),
                        }
                    }
                }
                // 3.3 Each confirmation names the same commitments and new public data.
                Verdict::Confirm { hash } => {
                    if *hash != self.hash {
                        push_culprit(&mut culprits, Culprit::new(*k, round, Fault::InconsistentConfirmation));
                    }
                }
            }
        }
        // 3.4 Any culprit: abort with all of them (the old key is untouched).
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 3.5 Everyone confirmed the same hand-over: output.
        let receipt = HandoverReceipt {
            session: self.ctx.session,
            old_key_id: self.ctx.old.key_id,
            old_signers: self.ctx.params.old_signers.clone(),
            new_public: self.new_public.clone(),
            commitments: self.commitments.iter().map(|(p, v)| (*p, v.points().to_vec())).collect(),
            confirmation: self.hash,
            holder: me,
            confirmations: statements,
        };
        if self.ctx.is_new(me) {
            let secret = self.secret.ok_or(ProtocolError::Bug("no new share although nobody was blamed"))?;
            Ok(ReshareOutput::Share(KeyShare::new(self.new_public, me, secret), receipt))
        } else {
            Ok(ReshareOutput::Retired(receipt))
        }
    }
}
