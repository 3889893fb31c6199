//! The peer transport's frame decoder, with a receiver limit taken from the input.
#![no_main]

use conclave_node::transport::frame::{Frame, FrameHeader, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else { return };
    let max = usize::from(limit) * 64;
    if let Ok((frame, used)) = Frame::decode(rest, max) {
        assert!(used <= rest.len());
        assert!(frame.payload.len() <= max);
    }
    if let Some(header) = rest.get(..HEADER_LEN).and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok()) {
        let _ = FrameHeader::decode(header, max);
    }
});
