//! `NodeConfig::parse` on arbitrary text. Relative paths resolve against a directory that does
//! not exist, so file settings fail with read errors; the TOML layer and every check before
//! them run on the fuzzed text.
#![no_main]

use std::path::Path;

use conclave_node::NodeConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = NodeConfig::parse(text, Path::new("/nonexistent/conclave-fuzz"));
    }
});
