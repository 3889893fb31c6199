//! The adversarial matrix (`docs/adversarial-matrix.md`) is complete and points at real tests:
//! every row has all six cells filled, every message has all seven fault kinds, every cell
//! either names at least one test (`path::function`, checked to exist as `fn function` in that
//! file) or says "n/a" with a reason, and every named test exists. A missing or stale cell
//! fails CI.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const FAULTS: [&str; 7] = ["tamper", "drop", "duplicate", "replay", "reorder", "equivocate", "delay past timeout"];
const COLUMNS: [&str; 6] = ["protocol", "message", "field", "fault", "test", "culprit named"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Splits a table row on unescaped `|`.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// Every `` `crates/…/x.rs::name` `` reference in a cell.
fn references(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| {
            let (path, name) = span.split_once("::")?;
            (path.starts_with("crates/") && path.ends_with(".rs")).then(|| (path.to_owned(), name.to_owned()))
        })
        .collect()
}

fn defines(source: &str, name: &str) -> bool {
    source.match_indices(&format!("fn {name}")).any(|(i, m)| {
        let after = source[i + m.len()..].chars().next();
        let before_ok = i == 0 || !source[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        before_ok && matches!(after, Some('(') | Some('<'))
    })
}

struct Row {
    line: usize,
    cells: Vec<String>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("docs/adversarial-matrix.md")).expect("docs/adversarial-matrix.md");
    let mut lines = text.lines().enumerate().skip_while(|(_, l)| !l.trim_start().starts_with("| protocol"));
    let (_, header) = lines.next().expect("the matrix table has a header row");
    assert_eq!(cells(header), COLUMNS, "header row");
    let (_, sep) = lines.next().expect("separator row");
    assert!(sep.trim().starts_with("|---"), "separator row");
    lines
        .take_while(|(_, l)| l.trim_start().starts_with('|'))
        .map(|(i, l)| Row { line: i + 1, cells: cells(l) })
        .collect()
}

#[test]
fn every_cell_is_filled_and_names_existing_tests() {
    let rows = rows();
    assert!(rows.len() > 100, "the matrix has {} rows", rows.len());
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for r in &rows {
        if r.cells.len() != COLUMNS.len() {
            problems.push(format!("line {}: {} cells, expected {}", r.line, r.cells.len(), COLUMNS.len()));
            continue;
        }
        for (c, name) in r.cells.iter().zip(COLUMNS) {
            if c.is_empty() {
                problems.push(format!("line {}: empty `{name}` cell", r.line));
            }
        }
        let fault = &r.cells[3];
        if !FAULTS.contains(&fault.as_str()) {
            problems.push(format!("line {}: unknown fault `{fault}`", r.line));
        }
        let test = &r.cells[4];
        let refs = references(test);
        let na = test.starts_with("n/a");
        if refs.is_empty() && !na {
            problems.push(format!("line {}: the test cell names no test and is not n/a", r.line));
        }
        if na && test.len() < 40 {
            problems.push(format!("line {}: an n/a cell must say why", r.line));
        }
        for (path, name) in refs {
            let source = sources.entry(path.clone()).or_insert_with(|| {
                std::fs::read_to_string(root().join(&path)).unwrap_or_else(|e| panic!("line {}: {path}: {e}", r.line))
            });
            if !defines(source, &name) {
                problems.push(format!("line {}: {path} has no `fn {name}`", r.line));
            }
        }
    }
    assert!(problems.is_empty(), "adversarial matrix problems:\n{}", problems.join("\n"));
}

#[test]
fn every_message_has_every_fault_kind() {
    let mut seen: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in rows() {
        if r.cells.len() == COLUMNS.len() {
            seen.entry((r.cells[0].clone(), r.cells[1].clone())).or_default().insert(r.cells[3].clone());
        }
    }
    let protocols: BTreeSet<&str> = seen.keys().map(|(p, _)| p.as_str()).collect();
    for p in [
        "engine (every protocol)",
        "DKG",
        "aux-info",
        "reshare",
        "presign (CGGMP24)",
        "sign (ECDSA, with a presignature)",
        "FROST sign",
        "node / transport",
    ] {
        assert!(protocols.contains(p), "the matrix has no rows for {p}");
    }
    let mut missing = Vec::new();
    for ((p, m), faults) in &seen {
        for f in FAULTS {
            if !faults.contains(f) {
                missing.push(format!("{p} / {m}: no `{f}` row"));
            }
        }
    }
    assert!(missing.is_empty(), "incomplete matrix:\n{}", missing.join("\n"));
}

#[test]
fn the_checker_catches_what_it_must() {
    assert_eq!(cells("| a | b \\| c | |"), vec!["a", "b | c", ""]);
    assert_eq!(
        references("`crates/x/tests/y.rs::f`; `crates/x/tests/y.rs::g` (and `silent`)"),
        vec![("crates/x/tests/y.rs".to_owned(), "f".to_owned()), ("crates/x/tests/y.rs".to_owned(), "g".to_owned())]
    );
    assert!(defines("fn foo() {}", "foo"));
    assert!(defines("fn foo<S>() {}", "foo"));
    assert!(!defines("fn foobar() {}", "foo"));
    assert!(!defines("fn xfoo() {}", "foo"));
}
