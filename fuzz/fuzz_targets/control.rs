//! The nodes' session control messages (propose, accept, refuse, cancel).
#![no_main]

use conclave_node::request::Control;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Control::from_bytes(data) {
        // What decodes re-encodes and decodes to the same message.
        assert_eq!(Control::from_bytes(&c.to_bytes()).ok(), Some(c));
    }
});
