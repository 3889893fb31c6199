//! `NodeConfig::parse` on hostile input (issue 10, item 3): arbitrary TOML-ish text and
//! mutations of a valid configuration give `Ok` or a `ConfigError`, never a panic; and bad
//! settings give clear errors that name the setting or the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::OnceLock;

use conclave_node::transport::TlsIdentity;
use conclave_node::{ConfigError, NodeConfig};
use conclave_protocol::IdentityKey;
use proptest::prelude::*;

/// A directory with every file a valid configuration names, and that configuration's text.
struct Setup {
    dir: tempfile::TempDir,
    text: String,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        let me = IdentityKey::from_seed(&[7; 32]);
        let peer = IdentityKey::from_seed(&[8; 32]);
        let tls = TlsIdentity::generate_self_signed("conclave-fuzz-0").unwrap();
        let peer_tls = TlsIdentity::generate_self_signed("conclave-fuzz-1").unwrap();
        std::fs::write(home.join("identity.key"), hex::encode(me.expose_seed())).unwrap();
        std::fs::write(home.join("bad-hex.key"), "zz not hex at all").unwrap();
        std::fs::write(home.join("tls.crt"), tls.cert_pem()).unwrap();
        std::fs::write(home.join("tls.key"), tls.key_pem().as_str()).unwrap();
        std::fs::create_dir_all(home.join("secrets")).unwrap();
        std::fs::write(home.join("secrets/master.key"), "00".repeat(32)).unwrap();
        let text = format!(
            "[node]\nindex = 0\nlisten = \"127.0.0.1:7100\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\n\
             tls_cert = \"tls.crt\"\ntls_key = \"tls.key\"\n\n[master_key]\nfile = \"secrets/master.key\"\n\n\
             [timeouts]\nround_secs = 30\nconnect_secs = 2\n\n[presign_pool]\nsize = 4\n\n\
             [prime_pool]\nsize = 1\n\n[limits]\nmax_frame_bytes = 1048576\nmax_sessions = 16\n\n\
             [[parties]]\nindex = 0\naddress = \"127.0.0.1:7100\"\nidentity_public_key = \"{}\"\ntls_cert_sha256 = \"{}\"\n\n\
             [[parties]]\nindex = 1\naddress = \"127.0.0.1:7101\"\nidentity_public_key = \"{}\"\ntls_cert_sha256 = \"{}\"\n",
            hex::encode(me.public().to_bytes()),
            hex::encode(tls.fingerprint()),
            hex::encode(peer.public().to_bytes()),
            hex::encode(peer_tls.fingerprint()),
        );
        Setup { dir, text }
    })
}

fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
    NodeConfig::parse(text, setup().dir.path())
}

fn with(from: &str, to: &str) -> String {
    let s = &setup().text;
    assert!(s.contains(from), "the valid configuration has `{from}`");
    s.replacen(from, to, 1)
}

#[test]
fn the_valid_configuration_parses() {
    let cfg = parse(&setup().text).unwrap();
    assert_eq!(cfg.me.0, 0);
    assert_eq!(cfg.parties.len(), 2);
    assert_eq!(cfg.presign_pool, 4);
    assert_eq!(cfg.max_sessions, 16);
    assert_eq!(cfg.data_dir, setup().dir.path().join("data"));
}

#[test]
fn missing_identity_file_names_the_path() {
    let e = parse(&with("identity_key = \"identity.key\"", "identity_key = \"no-such.key\"")).unwrap_err();
    match &e {
        ConfigError::Read { path, .. } => assert_eq!(path, &setup().dir.path().join("no-such.key")),
        other => panic!("expected a read error, got {other:?}"),
    }
    assert!(e.to_string().contains("no-such.key"), "{e}");
}

#[test]
fn bad_hex_names_the_setting() {
    let e = parse(&with("identity_key = \"identity.key\"", "identity_key = \"bad-hex.key\"")).unwrap_err();
    assert!(matches!(&e, ConfigError::Invalid { setting, .. } if setting == "node.identity_key"), "{e:?}");
    assert!(e.to_string().contains("node.identity_key"), "{e}");
    // A party's certificate pin that is not hex, and one of the wrong length.
    let second_pin = setup().text.rmatch_indices("tls_cert_sha256 = \"").next().unwrap().0;
    let mut text = setup().text.clone();
    text.insert_str(second_pin + "tls_cert_sha256 = \"".len(), "xy");
    let e = parse(&text).unwrap_err();
    assert!(matches!(&e, ConfigError::Invalid { setting, .. } if setting == "parties[1].tls_cert_sha256"), "{e:?}");
    let text = setup().text.replacen("identity_public_key = \"", "identity_public_key = \"00", 1);
    let e = parse(&text).unwrap_err();
    assert!(matches!(&e, ConfigError::Invalid { setting, .. } if setting == "parties[0].identity_public_key"), "{e:?}");
}

#[test]
fn unknown_field_is_rejected() {
    let e = parse(&with("[node]\n", "[node]\ncolour = \"blue\"\n")).unwrap_err();
    assert!(matches!(e, ConfigError::Syntax { .. }), "{e:?}");
    assert!(e.to_string().contains("colour"), "{e}");
    let e = parse(&format!("{}\n[telemetry]\nenabled = true\n", setup().text)).unwrap_err();
    assert!(e.to_string().contains("telemetry"), "{e}");
}

#[test]
fn master_key_file_inside_data_dir_is_rejected() {
    let e = parse(&with("file = \"secrets/master.key\"", "file = \"data/master.key\"")).unwrap_err();
    assert!(matches!(&e, ConfigError::Invalid { setting, .. } if setting == "master_key.file"), "{e:?}");
    // The same file reached through an absolute path.
    let abs = setup().dir.path().join("data/keys/master.key");
    let e = parse(&with("file = \"secrets/master.key\"", &format!("file = {:?}", abs.to_str().unwrap()))).unwrap_err();
    assert!(matches!(&e, ConfigError::Invalid { setting, .. } if setting == "master_key.file"), "{e:?}");
    // Both sources, or neither.
    let e = parse(&with("file = \"secrets/master.key\"", "file = \"secrets/master.key\"\nenv = \"KEY\"")).unwrap_err();
    assert!(matches!(&e, ConfigError::Invalid { setting, .. } if setting == "master_key"), "{e:?}");
}

#[test]
fn out_of_range_settings_name_themselves() {
    for (from, to, setting) in [
        ("round_secs = 30", "round_secs = 0", "timeouts.round_secs"),
        ("connect_secs = 2", "connect_secs = 86401", "timeouts.connect_secs"),
        ("max_frame_bytes = 1048576", "max_frame_bytes = 10", "limits.max_frame_bytes"),
        ("[presign_pool]\nsize = 4", "[presign_pool]\nsize = 1001", "presign_pool.size"),
        ("[prime_pool]\nsize = 1", "[prime_pool]\nsize = 65", "prime_pool.size"),
        ("listen = \"127.0.0.1:7100\"", "listen = \"localhost\"", "node.listen"),
        ("[node]\nindex = 0", "[node]\nindex = 5", "node.index"),
        ("address = \"127.0.0.1:7101\"", "address = \"  \"", "parties[1].address"),
        ("[[parties]]\nindex = 1", "[[parties]]\nindex = 0", "parties[1].index"),
    ] {
        let e = parse(&with(from, to)).unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { setting: s, .. } if s == setting), "{to}: {e:?}");
        assert!(e.to_string().contains(setting), "{e}");
    }
    // A negative or too large integer is a syntax error naming the field, not a wrap-around.
    for to in ["index = -1", "index = 65536"] {
        let e = parse(&with("[node]\nindex = 0", &format!("[node]\n{to}"))).unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{to}: {e:?}");
    }
}

/// Values that are wrong in interesting ways.
fn weird_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"\"".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("1e400".to_owned()),
        Just("nan".to_owned()),
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("[1, \"a\"]".to_owned()),
        Just("\"/\"".to_owned()),
        Just("\"..\"".to_owned()),
        Just("\"data\"".to_owned()),
        Just("\"\\u0000\"".to_owned()),
        Just("\"[::1]:0\"".to_owned()),
        Just("\"256.0.0.1:1\"".to_owned()),
        Just(format!("\"{}\"", "f".repeat(64))),
        Just(format!("\"{}\"", "0".repeat(66))),
        Just("'''\nmulti\n'''".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        "\"[ -~]{0,40}\"",
        any::<i64>().prop_map(|v| v.to_string()),
    ]
}

/// One edit of the valid configuration's text.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace the value of line `line` (if it has `=`).
    Value(usize, String),
    /// Delete line `line`.
    DeleteLine(usize),
    /// Duplicate line `line`.
    DuplicateLine(usize),
    /// Replace the char at `pos` with `c`.
    Char(usize, char),
    /// Insert `s` at `pos`.
    Insert(usize, String),
    /// Cut the text at `pos`.
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), weird_value()).prop_map(|(l, v)| Edit::Value(l, v)),
        2 => any::<usize>().prop_map(Edit::DeleteLine),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
        2 => (any::<usize>(), any::<char>()).prop_map(|(p, c)| Edit::Char(p, c)),
        2 => (any::<usize>(), "[\\[\\]=\"'#.,{}\n a-z0-9_]{0,12}").prop_map(|(p, s)| Edit::Insert(p, s)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    let boundary = |pos: usize| {
        let mut p = pos % (text.len() + 1);
        while !text.is_char_boundary(p) {
            p -= 1;
        }
        p
    };
    match e {
        Edit::Value(l, v) => {
            if let Some(line) = lines.get_mut(l % n) {
                if let Some((k, _)) = line.split_once('=') {
                    *line = format!("{k}= {v}");
                }
            }
            lines.join("\n")
        }
        Edit::DeleteLine(l) => {
            if !lines.is_empty() {
                lines.remove(l % n);
            }
            lines.join("\n")
        }
        Edit::DuplicateLine(l) => {
            if let Some(line) = lines.get(l % n).cloned() {
                lines.insert(l % n, line);
            }
            lines.join("\n")
        }
        Edit::Char(pos, c) => {
            let p = boundary(*pos);
            let mut s = text.to_owned();
            if p < s.len() {
                let next = s[p..].chars().next().map_or(0, char::len_utf8);
                s.replace_range(p..p + next, &c.to_string());
            }
            s
        }
        Edit::Insert(pos, ins) => {
            let mut s = text.to_owned();
            s.insert_str(boundary(*pos), ins);
            s
        }
        Edit::Truncate(pos) => text[..boundary(*pos)].to_owned(),
    }
}

/// Text made of TOML-ish tokens.
fn tomlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("[node]"),
        Just("[master_key]"),
        Just("[timeouts]"),
        Just("[limits]"),
        Just("[[parties]]"),
        Just("index"),
        Just("listen"),
        Just("data_dir"),
        Just("identity_key"),
        Just("tls_cert"),
        Just("tls_key"),
        Just("file"),
        Just("env"),
        Just("address"),
        Just("identity_public_key"),
        Just("tls_cert_sha256"),
        Just("round_secs"),
        Just("max_frame_bytes"),
        Just(" = "),
        Just("\n"),
        Just("\""),
        Just("0"),
        Just("65535"),
        Just("-3"),
        Just("\"identity.key\""),
        Just("\"tls.crt\""),
        Just("\"tls.key\""),
        Just("\"127.0.0.1:1\""),
        Just("{ a = 1 }"),
        Just("[1, 2]"),
        Just("#"),
        Just("'''"),
        Just("\\"),
    ];
    proptest::collection::vec(token, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = parse(&text);
    }

    #[test]
    fn tomlish_text_never_panics(text in tomlish()) {
        let _ = parse(&text);
    }

    /// Mutations of a valid configuration give Ok or a ConfigError, never a panic.
    #[test]
    fn mutated_valid_configuration_never_panics(edits in proptest::collection::vec(edit(), 1..5)) {
        let mut text = setup().text.clone();
        for e in &edits {
            text = apply(&text, e);
        }
        match parse(&text) {
            Ok(cfg) => prop_assert!(cfg.parties.len() >= 2 && cfg.parties.contains_key(&cfg.me)),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn load_reports_the_config_path_on_syntax_errors() {
    let path = setup().dir.path().join("broken.toml");
    std::fs::write(&path, "[node\n").unwrap();
    let e = NodeConfig::load(&path).unwrap_err();
    assert!(matches!(&e, ConfigError::Syntax { path: p, .. } if p == &path), "{e:?}");
    let e = NodeConfig::load(Path::new("/nonexistent/conclave/node.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
}
