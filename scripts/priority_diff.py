"""Which priority decisions a change moved: every labelled mail, decided by this tree and by another revision.

    .venv/bin/python scripts/priority_diff.py [--against REV] [--csv FILE ...] [--all]

Decides urgent or not for every mail with an emergency label (the seed's emergency sets and its mails,
tests/data/triage/emergencies_*.csv, and any --csv) with the shipped models, here and in a checkout of
REV (default HEAD, so: what the uncommitted change does), and prints each mail whose decision moved,
marked gained (an emergency now found, or a false alarm gone) or LOST, then the counts per file. The
mails are read from this tree for both sides. --all prints every file's found / false alarms too.
The sets whose rows nobody has read (bench/triage.py's UNREAD) are left out unless --unread is given:
this prints rows, and theirs are only to be scored.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _natural(path: Path) -> list:
    """blind6 before blind10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def labelled(extra: list[Path], skip: set[str]) -> list[tuple[str, int, str, str, bool]]:
    """(file, row, subject, body, emergency) of every labelled mail, read as the bench reads them: the seed's
    emergency sets and its mails (urgent counts as an emergency; "seed" for mails.csv), then tests/data's sets."""
    from gateway.triage.seed import read_csv, seed_emergencies

    paths = sorted((REPO / "tests/data/triage").glob("emergencies_*.csv"), key=_natural) + extra
    examples = seed_emergencies() + [example for path in paths if path.name not in skip
                                     for example in read_csv(path, label="emergency", labels=("0", "1"))]
    rows: dict[str, int] = {}
    mails = []
    for e in examples:
        rows[e.source] = rows.get(e.source, 1) + 1  # the CSV's line: its header is line 1
        mails.append((e.source, rows[e.source], e.subject, e.body, e.label == "1"))
    return mails


def decide(root: Path, mails_file: Path) -> list[bool]:
    """Urgent or not for each mail, decided by the gateway package under `root` (run in its own process)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]);"
            "from gateway.config import PriorityConfig; from gateway.triage import prioritise_mail;"
            "mails = json.load(open(sys.argv[2]));"
            "print(json.dumps([prioritise_mail(s, b, config=PriorityConfig(), model_dir=None)[0].value == 'urgent'"
            " for s, b in mails]))")
    done = subprocess.run([sys.executable, "-c", code, str(root), str(mails_file)], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        sys.exit(f"deciding with {root} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="the revision to compare with (default HEAD)")
    parser.add_argument("--csv", type=Path, nargs="*", default=[], help="more labelled CSVs (subject, body, emergency)")
    parser.add_argument("--skip", nargs="*", default=[], help="more file names to leave out")
    parser.add_argument("--unread", action="store_true", help="read the unread sets too (prints their rows)")
    parser.add_argument("--all", action="store_true", help="print every file's found / false alarms")
    args = parser.parse_args()
    from bench.triage import UNREAD

    mails = labelled(args.csv, set(args.skip) | (set() if args.unread else {path.name for path in UNREAD}))
    with tempfile.TemporaryDirectory() as scratch:
        mails_file = Path(scratch) / "mails.json"
        mails_file.write_text(json.dumps([(subject, body) for _, _, subject, body, _ in mails]))
        other = Path(scratch) / "other"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(other), args.against],
                       check=True)
        try:
            before = decide(other, mails_file)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(other)], check=True)
        after = decide(REPO, mails_file)
    totals: dict[str, list[int]] = {}
    for (name, row, subject, body, real), was, now in zip(mails, before, after):
        counts = totals.setdefault(name, [0, 0, 0, 0, 0, 0])  # found, false alarms before; after; real, calm
        counts[0 if real else 1] += was
        counts[2 if real else 3] += now
        counts[4 if real else 5] += 1
        if was != now:
            gained = now == real
            print(f"{'gained' if gained else 'LOST  '} {name}:{row} {'emergency' if real else 'calm'} now "
                  f"{'urgent' if now else 'not urgent'}: {subject[:60]!r} {' '.join(body.split())[:140]!r}")
    print(f"\n{'file':36} found before -> after, false alarms before -> after")
    for name, (found, false, found_now, false_now, real, calm) in totals.items():
        if args.all or (found, false) != (found_now, false_now):
            print(f"{name:36} {found}/{real} -> {found_now}/{real}, {false}/{calm} -> {false_now}/{calm}")


if __name__ == "__main__":
    main()
