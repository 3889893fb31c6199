#!/usr/bin/env python3
"""Writes the results of one `scripts/bench` run into the docs (standard library only).

  python3 scripts/bench_report.py --results target/bench/results.json --run target/bench/run.json \
      --doc docs/benchmarks.md --svg docs/bench-cost-vs-n.svg

- In --doc, replaces only the region between `<!-- bench:begin -->` and `<!-- bench:end -->`
  (appended at the end if the markers are missing) with: the command, date, machine; the table
  of every protocol and (t, n), ours beside the peer with the ratios; the growth of per-party
  cost from n = 3 to n = 10; the issue's targets, checked against this run; a link to the plot.
- Writes --svg: per-party CPU time against n, one line per protocol (ours solid, peer dashed),
  logarithmic y axis.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

# (protocol, scheme) -> label, in the order of the tables and the legend.
SERIES = [
    (("dkg", "secp256k1"), "DKG secp256k1"),
    (("dkg", "ed25519"), "DKG Ed25519"),
    (("aux-info", "ecdsa-secp256k1"), "aux-info incl. 2 safe primes"),
    (("aux-info-protocol", "ecdsa-secp256k1"), "aux-info protocol only"),
    (("presign", "ecdsa-secp256k1"), "ECDSA presign"),
    (("sign", "ecdsa-secp256k1"), "ECDSA sign (online)"),
    (("frost-sign", "ed25519"), "FROST sign Ed25519"),
    (("frost-sign", "frost-secp256k1"), "FROST sign secp256k1"),
    (("frost-sign", "schnorr-bip340"), "FROST sign BIP-340"),
    (("refresh", "secp256k1"), "refresh secp256k1"),
    (("reshare", "secp256k1"), "reshare secp256k1"),
]
LABEL = dict(SERIES)
ORDER = {k: i for i, (k, _) in enumerate(SERIES)}
# Protocols run by the t signers only (the others by all n parties; reshare by n + 1).
SIGNER_PROTOCOLS = {"presign", "sign", "frost-sign"}
PLOTTED = [k for k, _ in SERIES if k[0] != "aux-info-protocol"]
COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]


def fmt_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.2f} ms"


def fmt_bytes(b: float) -> str:
    if b >= 10 * 1024:
        return f"{b / 1024:.0f} KiB"
    return f"{int(b)} B"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.2f}×"


def key(row: dict) -> tuple[str, str]:
    return (row["protocol"], row["scheme"])


def sort_rows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (ORDER.get(key(r), 99), r["n"], r["t"]))


def others(row_key: tuple[str, str], t: int, n: int) -> int:
    """Number of other parties each party deals with in one session."""
    if row_key[0] in SIGNER_PROTOCOLS:
        return t - 1
    if row_key[0] == "reshare":
        return n  # the session is the n parties of the new group plus the one that leaves
    return n - 1


def main_table(rows: list[dict]) -> list[str]:
    out = [
        "| protocol | (t,n) | runs | ours ms/party | peer ms/party | ratio | ours bytes/party | peer bytes/party | ratio | peer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sort_rows(rows):
        p = r.get("peer")
        if p:
            peer_ms, ratio, peer_b, ratio_b = (
                fmt_ms(p["ms"]),
                fmt_ratio(r["ratio_ms"]),
                fmt_bytes(p["bytes"]),
                fmt_ratio(r["ratio_bytes"]),
            )
            name = p["name"]
            alt = r.get("alt")
            if alt:
                peer_ms += f" ({fmt_ms(alt['ms'])})"
                ratio += f" ({fmt_ratio(r['ratio_alt_ms'])})"
        else:
            peer_ms = ratio = peer_b = ratio_b = "—"
            name = "none (no peer implements it)"
        out.append(
            f"| {LABEL.get(key(r), r['protocol'] + ' ' + r['scheme'])} | ({r['t']},{r['n']}) | {r['runs']} "
            f"| {fmt_ms(r['ours']['ms'])} | {peer_ms} | {ratio} | {fmt_bytes(r['ours']['bytes'])} "
            f"| {peer_b} | {ratio_b} | {name} |"
        )
    return out


def by_series(rows: list[dict]) -> dict[tuple[str, str], dict[int, dict]]:
    s: dict[tuple[str, str], dict[int, dict]] = {}
    for r in rows:
        s.setdefault(key(r), {})[r["n"]] = r
    return s


# Why a protocol's per-party cost grows as it does (shown beside the growth factors).
WHY = {
    "dkg": "each party checks a t-point Feldman commitment from each of the n − 1 others: "
    "work ∝ (n − 1)·t; our bytes add the echo round (below)",
    "refresh": "as the DKG: t-point commitments from n − 1 dealers",
    "reshare": "t dealers send t-point commitments to n + 1 parties; echo round as the DKG",
    "aux-info": "n − 1 Π^mod/Π^prm/Π^fac verifications; the two primes are a constant per party",
    "aux-info-protocol": "n − 1 Π^mod/Π^prm/Π^fac verifications per party",
    "presign": "two Π^enc-elg and two Π^aff-g per pair of signers",
    "sign": "ours verifies t − 1 signed envelopes; cggmp21's combine is constant",
    "frost-sign": "our bytes: the echo round resends a signed digest of each of the t − 1 others' "
    "broadcasts to each of them, (t − 1)² entries",
}


def growth_table(rows: list[dict]) -> list[str]:
    series = by_series(rows)
    ns = sorted({r["n"] for r in rows})
    if len(ns) < 2:
        return ["(one configuration only: no growth to report)"]
    lo, hi = ns[0], ns[-1]
    out = [
        f"Growth factor = per-party cost at n = {hi} ÷ per-party cost at n = {lo} (CPU time; bytes in "
        "brackets), for ours and for the peer. Per-party cost is linear in n when it grows no faster than "
        "the number of *other* parties a party deals with in the session: n − 1 for the protocols of all "
        f"n parties ({lo - 1} → {hi - 1}), t − 1 for those of the t signers, n for a reshare (n + 1 "
        "parties: the new group and the party that leaves). The configurations raise t with n "
        "(t = 2, 3, 5), so a protocol whose messages carry t-point commitments (DKG, refresh, reshare) "
        "grows as (n − 1)·t even when it is linear in n at a fixed t; that bound is given too "
        "(\"≤ (others)·t\": within it, not within the plain linear bound).",
        "",
        f"| protocol | ours growth n={lo}→{hi} | peer growth | linear bound (others) | (others)·t bound | time at most linear? | bytes at most linear? | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, label in SERIES:
        pts = series.get(k)
        if not pts or lo not in pts or hi not in pts:
            continue
        a, b = pts[lo], pts[hi]
        bound = others(k, b["t"], hi) / max(1, others(k, a["t"], lo))
        tb = bound * b["t"] / a["t"]
        g = b["ours"]["ms"] / a["ours"]["ms"]
        gb = b["ours"]["bytes"] / max(1, a["ours"]["bytes"])
        if a.get("peer") and b.get("peer"):
            pg = b["peer"]["ms"] / a["peer"]["ms"]
            pgb = b["peer"]["bytes"] / max(1, a["peer"]["bytes"])
            peer = f"{pg:.2f}× ({pgb:.2f}×)"
        else:
            peer = "—"
        feldman = k[0] in ("dkg", "refresh", "reshare")

        def verdict(x: float) -> str:
            if x <= bound * 1.05:
                return "yes"
            if feldman and x <= tb * 1.05:
                return "≤ (others)·t"
            return "**no**"

        out.append(
            f"| {label} | {g:.2f}× ({gb:.2f}×) | {peer} | {bound:.2f}× | {f'{tb:.2f}×' if feldman else '—'} "
            f"| {verdict(g)} | {verdict(gb)} | {WHY.get(k[0], '')} |"
        )
    out += [
        "",
        "Our bytes in the DKG, refresh, reshare and FROST sign grow faster than n because of the "
        "reliable-broadcast echo round: every party sends each other party the digest *and the "
        "broadcaster's signature* of every broadcast it received (98 bytes per entry), which is "
        "quadratic per party; cggmp21's echo sends one hash. Sending one digest over all broadcasts "
        "and revealing the signed entries only on a mismatch would make it linear.",
    ]
    return out


def targets(rows: list[dict]) -> list[str]:
    def line(name: str, target: float, picks: list[tuple[str, float]]) -> str:
        if not picks:
            return f"| {name} | ≤ {target:.1f}× | not measured | — |"
        met = [p for p in picks if p[1] <= target]
        verdict = "yes" if len(met) == len(picks) else ("**no**" if not met else "partly")
        vals = ", ".join(f"{fmt_ratio(v)} {c}" for c, v in picks)
        return f"| {name} | ≤ {target:.1f}× | {vals} | {verdict} |"

    def cfg(r: dict) -> str:
        return f"({r['t']},{r['n']})"

    def pick(proto: str, field: str = "ratio_ms", scheme: str | None = None) -> list[tuple[str, float]]:
        return [
            (cfg(r) + ("" if scheme or proto != "frost-sign" else " " + r["scheme"]), r[field])
            for r in sort_rows(rows)
            if r["protocol"] == proto and (scheme is None or r["scheme"] == scheme) and r.get(field) is not None
        ]

    out = [
        "| target (issue 10) | bound | this run (ours ÷ peer, per party) | met? |",
        "|---|---|---|---|",
        line("ECDSA presign time vs cggmp21", 0.5, pick("presign")),
        line("aux-info time incl. safe primes vs cggmp21", 0.5, pick("aux-info")),
        line("aux-info protocol alone (information)", 0.5, pick("aux-info-protocol")),
        line("bytes: aux-info vs cggmp21", 1.0, pick("aux-info", "ratio_bytes")),
        line("bytes: presign vs cggmp21", 1.0, pick("presign", "ratio_bytes")),
        line("bytes: DKG vs cggmp21 keygen (information)", 1.0, pick("dkg", "ratio_bytes", "secp256k1")),
        line("FROST sign vs the ZF crates", 1.2, pick("frost-sign")),
        line("FROST sign vs the ZF crates + share checks", 1.2, pick("frost-sign", "ratio_alt_ms")),
    ]
    return out


def doc_region(results: dict, run: dict, svg_name: str) -> str:
    rows = results["rows"]
    m = run["machine"]
    minutes = run["seconds"] / 60
    args = results.get("args", {})
    primes = results.get("primes", {})
    lines = [
        BEGIN,
        "<!-- Generated by scripts/bench_report.py from one run of scripts/bench: do not edit by hand. -->",
        "",
        "## Every protocol beside the peers (generated)",
        "",
        f"Command: `{run['command']}` — started {run['started']}, {minutes:.0f} min wall time, "
        f"commit `{run['commit']}`, {run['rustc']}.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['os']}; load average (1, 5, 15 min) at start → end: "
        f"{m['load']} (other builds ran beside it).",
        f"Runs: configurations {', '.join('(%d,%d)' % tuple(c) for c in args.get('configs', []))}; "
        f"medians over {args.get('runs')} runs of presign (with its sign) and of aux-info "
        f"({args.get('large_runs')} of aux-info at n ≥ 10), over {args.get('sign_runs')} runs of the "
        f"others (the column *runs* gives each row's count); {args.get('jobs')} configurations at a "
        "time, each on its own thread (per-thread CPU clocks, so they do not count each other's work).",
        "",
        "Every figure comes from this one run. *ms/party*: CPU time of the thread running the party "
        "(`CLOCK_THREAD_CPUTIME_ID`) inside that party's own calls, mean over the parties, median over "
        "the runs; *bytes/party*: bytes one party sends (a broadcast counted once per recipient), largest "
        "over the parties; ratio = ours ÷ peer. Ours and the peer are measured back to back in the same "
        "thread, run by run, so the **ratios** are what count; absolute times are noisy because other "
        "builds share the 2 cores.",
        "",
        "Peers: `cggmp21` 0.6.3 (keygen, aux-info, presign, sign; messages counted through its serde "
        "derive with `bincode`, integers at binary size) and the Zcash Foundation `frost-*` 3.0 crates "
        "(DKG, signing, `refresh_dkg`; no transport of their own, so their bytes are the raw points and "
        "scalars, without framing, authentication or the broadcast echo their DKG asks of the caller). "
        "Our bytes are the signed envelopes on the wire, echo rounds included. For FROST sign the "
        "bracketed peer figure is the ZF crates plus `verify_signature_share` of every share, which our "
        "driver does before aggregating; the first is the bare crates (commit, sign, aggregate). "
        "Aux-info includes two 1536-bit safe primes per party at the mean CPU time per prime of this run "
        f"({primes.get('per_side')} primes per side: ours {fmt_ms(primes.get('ours_mean_ms', float('nan')))}, "
        f"fast-paillier {fmt_ms(primes.get('peer_mean_ms', float('nan')))}; the search time of a safe prime "
        "is roughly geometric, so this ratio moves with the sample; the protocol-only rows do not depend "
        "on it). Refresh is ours (a reshare "
        "to the same group, curve shares only: an ECDSA key's Paillier keys are renewed by aux-info) "
        "against `frost_core::keys::refresh`. Reshare has no peer in these crates: ours alone, a t-of-n "
        "key handed from the signers {0, …, t−1} to a new group of n in which party 0 leaves and party n "
        "joins.",
        "",
    ]
    lines += main_table(rows)
    lines += ["", "### Growth of per-party cost with n", ""]
    lines += growth_table(rows)
    lines += ["", "### The issue's targets in this run", ""]
    lines += targets(rows)
    lines += [
        "",
        f"![Per-party CPU time against n, ours solid, peers dashed]({svg_name})",
        "",
        f"[Plot: per-party CPU time against n]({svg_name}) (ours solid, peer dashed, logarithmic scale).",
        "",
        END,
    ]
    return "\n".join(lines)


def write_doc(path: Path, region: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        _, after = rest.split(END, 1)
        text = before + region + after
    else:
        text = text.rstrip("\n") + "\n\n" + region + "\n"
    path.write_text(text, encoding="utf-8")


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(results: dict, run: dict) -> str:
    rows = results["rows"]
    series = by_series(rows)
    ns = sorted({r["n"] for r in rows})
    values = [r["ours"]["ms"] for r in rows] + [r["peer"]["ms"] for r in rows if r.get("peer")]
    values = [v for v in values if v > 0]
    if not values or not ns:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n'
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    w, h = 980, 560
    left, right, top, bottom = 80, 330, 50, 60
    pw, ph = w - left - right, h - top - bottom
    nmin, nmax = ns[0], ns[-1]

    def x(n: float) -> float:
        return left + (0.5 if nmax == nmin else (n - nmin) / (nmax - nmin)) * pw

    def y(ms: float) -> float:
        return top + (1 - (math.log10(ms) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))) * ph

    o = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Per-party CPU time against n '
        "(median; ours solid, peer dashed)</text>",
        f'<text x="{left}" y="40" fill="#555">{esc(run["command"])} — {esc(run["started"])}; '
        "t = 2, 3, 5 for n = 3, 5, 10; signing protocols run among t signers</text>",
    ]
    # Axes and grid.
    decade = lo
    while decade <= hi * 1.0001:
        yy = y(decade)
        o.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{esc(fmt_ms(decade))}</text>')
        decade *= 10
    for n in ns:
        xx = x(n)
        t = next((r["t"] for r in rows if r["n"] == n), "?")
        o.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{top + ph}" stroke="#eee"/>')
        o.append(f'<text x="{xx:.1f}" y="{top + ph + 18}" text-anchor="middle">n = {n} (t = {t})</text>')
    o.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    o.append(
        f'<text x="{left + pw / 2}" y="{h - 12}" text-anchor="middle">number of parties n</text>'
        f'<text x="18" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 {top + ph / 2})">'
        "CPU time per party (log scale)</text>"
    )
    # Lines and legend.
    ly = top + 8
    for i, k in enumerate([k for k in PLOTTED if k in series]):
        colour = COLOURS[i % len(COLOURS)]
        pts = series[k]
        for who, dash in (("ours", ""), ("peer", ' stroke-dasharray="6 4"')):
            xy = [
                (x(n), y(pts[n][who]["ms"]))
                for n in sorted(pts)
                if pts[n].get(who) and pts[n][who]["ms"] > 0
            ]
            if not xy:
                continue
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in xy)
            o.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            for a, b in xy:
                o.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{3 if who == "ours" else 2.5}" fill="{colour}"/>')
        peer = next((pts[n]["peer"]["name"] for n in pts if pts[n].get("peer")), None)
        lx = left + pw + 16
        o.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        o.append(f'<text x="{lx + 28}" y="{ly + 4}">{esc(LABEL[k])}</text>')
        ly += 15
        if peer:
            o.append(
                f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{colour}" stroke-width="2" '
                'stroke-dasharray="6 4"/>'
            )
            o.append(f'<text x="{lx + 28}" y="{ly + 4}" fill="#555">{esc(peer)}</text>')
            ly += 15
        ly += 6
    o.append("</svg>")
    return "\n".join(o) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="target/bench/results.json")
    ap.add_argument("--run", default="target/bench/run.json")
    ap.add_argument("--doc", default="docs/benchmarks.md")
    ap.add_argument("--svg", default="docs/bench-cost-vs-n.svg")
    a = ap.parse_args()
    results = json.loads(Path(a.results).read_text(encoding="utf-8"))
    run = json.loads(Path(a.run).read_text(encoding="utf-8"))
    svg_path = Path(a.svg)
    doc_path = Path(a.doc)
    svg_path.write_text(svg(results, run), encoding="utf-8")
    # The link is relative to the document.
    try:
        rel = svg_path.resolve().relative_to(doc_path.resolve().parent)
        link = str(rel)
    except ValueError:
        link = str(svg_path)
    write_doc(doc_path, doc_region(results, run, link))
    print(f"bench_report: wrote {doc_path} (region {BEGIN} … {END}) and {svg_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
