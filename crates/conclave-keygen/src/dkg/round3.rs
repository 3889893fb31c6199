//! Round 3: judge every verdict identically; output the key share or abort (spec steps 4.1–4.4).

use std::collections::{BTreeMap, BTreeSet};

use conclave_math::codec::Decode;
use conclave_math::Curve;
use conclave_protocol::envelope::payload_digest;
use conclave_protocol::fault::push_culprit;
use conclave_protocol::{
    Culprit, Delivery, Fault, MessageKind, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput, SignedStatement,
};

use super::msg::{Accusation, Accused, Verdict};
use super::round2::{check_reveal, check_share, KeyMaterial, ValidReveal};
use super::{Context, PROTOCOL};
use crate::key_share::{KeyShare, PublicKeyShare};

/// Round 3 expects one reliable broadcast from everyone.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(3), broadcast: Some(Delivery::Reliable), direct: false };

/// What party `i` keeps after round 3's messages went out.
#[derive(Debug)]
pub struct State<C: Curve> {
    ctx: Context,
    commitments: BTreeMap<PartyIndex, [u8; 32]>,
    reveals: BTreeMap<PartyIndex, ValidReveal<C>>,
    key: Option<KeyMaterial<C>>,
    own_verdict: Verdict,
}

impl<C: Curve> State<C> {
    pub(crate) fn new(
        ctx: Context,
        commitments: BTreeMap<PartyIndex, [u8; 32]>,
        reveals: BTreeMap<PartyIndex, ValidReveal<C>>,
        key: Option<KeyMaterial<C>>,
        own_verdict: Verdict,
    ) -> Self {
        Self { ctx, commitments, reveals, key, own_verdict }
    }

    /// The accused party's signed statement for the message an accusation quotes.
    fn quoted_statement(&self, accuser: PartyIndex, a: &Accusation) -> SignedStatement {
        let (kind, recipient) = match a.message {
            Accused::Reveal => (MessageKind::Broadcast, None),
            Accused::Share => (MessageKind::Direct, Some(accuser)),
        };
        SignedStatement {
            protocol: PROTOCOL.to_owned(),
            session: self.ctx.session,
            round: RoundId(2),
            kind,
            sender: a.accused,
            recipient,
            digest: payload_digest(&a.payload),
            signature: a.signature,
        }
    }

    /// Whether the accusation is well-formed and quotes a message the accused really signed.
    fn authentic(&self, accuser: PartyIndex, a: &Accusation) -> Option<SignedStatement> {
        if a.accused == accuser || !self.ctx.parties.contains(a.accused) {
            return None;
        }
        let st = self.quoted_statement(accuser, a);
        let key = self.ctx.peers.get(&a.accused)?;
        st.verify(key).then_some(st)
    }

    /// Steps 4.1–4.4. Every honest party runs this on the same (echo-agreed) verdicts and so
    /// reaches the same result.
    pub(crate) fn proceed(self, input: RoundInput) -> Result<KeyShare<C>, ProtocolError> {
        let round = INFO.id;
        let mut culprits = Vec::new();
        // 4.1 Everyone's verdict, ours included.
        let mut verdicts = BTreeMap::new();
        verdicts.insert(self.ctx.me, self.own_verdict.clone());
        for (k, msg) in input.broadcasts {
            match Verdict::from_bytes(&msg.payload) {
                Ok(v) => {
                    verdicts.insert(k, v);
                }
                Err(_) => push_culprit(&mut culprits, Culprit::with_message(k, round, Fault::Malformed, msg.statement)),
            }
        }
        let complaints: Vec<(PartyIndex, &Accusation)> = verdicts
            .iter()
            .filter_map(|(k, v)| match v {
                Verdict::Complaint { accusations } => Some(accusations.iter().map(move |a| (*k, a))),
                Verdict::Confirm { .. } => None,
            })
            .flatten()
            .collect();
        // 4.2 Accusations about reveals: re-check the quoted reveal against the agreed V_j.
        let mut guilty = BTreeSet::new();
        for (k, a) in complaints.iter().filter(|(_, a)| a.message == Accused::Reveal) {
            let (Some(st), Some(v)) = (self.authentic(*k, a), self.commitments.get(&a.accused)) else {
                push_culprit(&mut culprits, Culprit::new(*k, round, Fault::FalseComplaint));
                continue;
            };
            match check_reveal::<C>(&self.ctx, a.accused, v, &a.payload) {
                Err(fault) => {
                    guilty.insert(a.accused);
                    push_culprit(&mut culprits, Culprit::with_message(a.accused, RoundId(2), fault, st));
                }
                Ok(_) => push_culprit(&mut culprits, Culprit::new(*k, round, Fault::FalseComplaint)),
            }
        }
        // 4.3 Accusations about shares of parties whose reveal stands: re-check the quoted share.
        for (k, a) in complaints.iter().filter(|(_, a)| a.message == Accused::Share) {
            if guilty.contains(&a.accused) {
                continue;
            }
            let Some(st) = self.authentic(*k, a) else {
                push_culprit(&mut culprits, Culprit::new(*k, round, Fault::FalseComplaint));
                continue;
            };
            // Every reveal not proven bad in 4.2 was accepted by us in round 2: otherwise our
            // own accusation would have proven it bad.
            let Some(rev) = self.reveals.get(&a.accused) else {
                return Err(ProtocolError::Bug("share accusation against a party without a reveal"));
            };
            match check_share::<C>(&rev.vss, *k, &a.payload) {
                Err(fault) => push_culprit(&mut culprits, Culprit::with_message(a.accused, RoundId(2), fault, st)),
                Ok(_) => push_culprit(&mut culprits, Culprit::new(*k, round, Fault::FalseComplaint)),
            }
        }
        // 4.4 Every confirmation names the same commitments.
        let expected = self.ctx.confirmation_hash(&self.commitments);
        for (k, v) in &verdicts {
            if let Verdict::Confirm { hash } = v {
                if *hash != expected {
                    push_culprit(&mut culprits, Culprit::new(*k, round, Fault::InconsistentConfirmation));
                }
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        let key = self.key.ok_or(ProtocolError::Bug("no key material although nobody was blamed"))?;
        let key_id = PublicKeyShare::<C>::compute_key_id(
            self.ctx.threshold,
            &self.ctx.parties,
            &key.public_shares,
            &key.public_key,
            &key.chain_code,
        );
        let public = PublicKeyShare {
            key_id,
            threshold: self.ctx.threshold,
            parties: self.ctx.parties.clone(),
            public_shares: key.public_shares,
            public_key: key.public_key,
            chain_code: key.chain_code,
        };
        Ok(KeyShare::new(public, self.ctx.me, key.secret_share))
    }
}
