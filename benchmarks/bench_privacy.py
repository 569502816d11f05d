"""The book's privacy check: identifier search speed, against a plain alternation in the same run.

Baseline: one regular expression ``id1|id2|...`` (longest first) with the same token boundaries,
which Python's ``re`` tries alternative by alternative at every token.  Ours:
``report.privacy.identifier_pattern``, the same identifiers as a prefix tree.  Input: a
cohort-sized set of identifiers (patient ids and scan dates) and a page of book-like text
(numbers, dates, words) with a few real hits; both must find the same identifiers.

    .venv/bin/python benchmarks/bench_privacy.py [--ids 1400] [--kb 2000]
"""

from __future__ import annotations

import argparse
import random
import re
import time

from ecrs_analysis.report.privacy import identifier_pattern


def _alternation(ids: set[str]) -> re.Pattern[str]:
    body = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z0-9])(?<![0-9][.,])(" + body + r")(?![A-Za-z0-9])(?![.,][0-9])")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=1400, help="identifiers (half patient ids, half scan dates)")
    ap.add_argument("--kb", type=int, default=2000, help="kilobytes of text searched")
    args = ap.parse_args()
    rng = random.Random(0)
    ids = {f"LI{i:04d}" for i in range(args.ids // 2)} | {f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(args.ids // 2)}
    words = ["AUC", "0.851", "(0.77-0.93)", "patients", "1098", "2024-05-01", "<td>", "</td>", "CI", "eCRS", "LI", "12345"]
    text = " ".join(rng.choice(words) for _ in range(args.kb * 1024 // 6)) + " LI0042 and LI0007."
    rows = []
    for name, make in (("plain alternation (baseline)", _alternation), ("prefix tree (report.privacy)", identifier_pattern)):
        pattern = make(ids)
        t0 = time.perf_counter()
        found = sorted(set(pattern.findall(text)))
        rows.append((name, time.perf_counter() - t0, found))
    if rows[0][2] != rows[1][2]:
        raise SystemExit(f"the two patterns disagree: {rows[0][2][:5]} vs {rows[1][2][:5]}")
    base = rows[0][1]
    print(f"{len(ids)} identifiers, {len(text) / 1e6:.1f} MB of text, {len(rows[0][2])} identifier(s) found by both")
    print(f"{'pattern':<32} {'seconds':>8} {'x baseline':>11}")
    for name, s, _ in rows:
        print(f"{name:<32} {s:>8.2f} {base / s:>11.1f}")


if __name__ == "__main__":
    main()
