//! The engine's wire types: envelope, signed statement, echo payload, culprit, evidence, party set.
#![no_main]

use conclave_math::codec::{Decode, Encode};
use conclave_protocol::machine::EchoPayload;
use conclave_protocol::{Culprit, Envelope, Evidence, PartySet, SignedStatement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Envelope::from_bytes(data) {
        // What decodes re-encodes to the same bytes (the codec is canonical).
        assert_eq!(e.to_bytes(), data);
    }
    let _ = SignedStatement::from_bytes(data);
    let _ = EchoPayload::from_bytes(data);
    let _ = Culprit::from_bytes(data);
    let _ = Evidence::from_bytes(data);
    let _ = PartySet::from_bytes(data);
});
