"""Leave one read set out: does training the emergency model on the read sets help on a set it has not seen?

    .venv/bin/python scripts/emergency_set_out.py [--weight 1.0]

For each of tests/data/triage's read blind sets (scripts/train_shipped_models.py's READ_SETS, less the dev sets,
which are always trained on), fits the shipped recipe on the seed's training mail plus the other read sets, each
of their mails weighing --weight (0: the seed alone, as before shipped-12), and runs the whole priority decision
(rules, signals, model) on the set left out. Prints the running totals per set, then emergencies found and false
alarms over all of them. The rules were written against these sets' rows, so the totals flatter the rules alike
for every weight: compare weights with each other, not with a fresh set. The unread sets are never opened.
About five minutes here (one fit per set).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.config import PriorityConfig  # noqa: E402
from gateway.triage.decide import prioritise  # noqa: E402
from gateway.triage.seed import read_csv, seed_emergencies  # noqa: E402
from gateway.triage.train import fit  # noqa: E402
from scripts.train_shipped_models import READ_SETS, USED_EMERGENCY_SPLITS  # noqa: E402

DATA = REPO / "tests" / "data" / "triage"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weight", type=float, default=1.0, help="weight of a read set's mail (0: not trained on)")
    args = parser.parse_args(argv)
    rows = {name: read_csv(DATA / name, label="emergency", labels=("0", "1")) for name in READ_SETS}
    seed = [e for e in seed_emergencies() if e.split in USED_EMERGENCY_SPLITS]
    found = real = false = calm = 0
    for left_out in (name for name in READ_SETS if "blind" in name):
        others = [e for name in READ_SETS if name != left_out for e in rows[name]] if args.weight else []
        model = fit(seed + others, kind="emergency", weights=[1.0] * len(seed) + [args.weight] * len(others))
        for e in rows[left_out]:
            urgent = prioritise(e.subject, e.body, config=PriorityConfig(), model=model)[0].value == "urgent"
            if e.label == "1":
                real, found = real + 1, found + urgent
            else:
                calm, false = calm + 1, false + urgent
        print(f"{left_out}: so far {found}/{real} found, {false}/{calm} false", flush=True)
    print(f"weight {args.weight}: {found}/{real} emergencies found, {false}/{calm} false alarms")


if __name__ == "__main__":
    main()
