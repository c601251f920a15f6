"""Faults with real processes, counted: kill -9 of `gateway serve` mid-stream, and the relay down mid-stream.

    python bench/faults.py [--mails 300] [--clients 10] [--kill-at 0.4] [--outage-seconds 30] [--runs 1]

Each scenario runs `gateway serve` (SQLite) as its own process with a capture relay in this one,
and `--clients` SMTP client threads sending `--mails` mails between them, each trying a mail again
until it is answered 250 (as MTAs do). Printed per run: mails acknowledged (250), stored, lost
(acknowledged but not stored), stored twice, notifications queued, sent (reached the relay),
sent twice (relay deliveries beyond the first of one Message-ID), in flight (outbox rows the killed
sender had claimed and not recorded: the only ones allowed to go out twice) and refused (attempts
answered other than 250 or cut off, then retried). The notes say how many notifications went out
only after a failed attempt, and any relay delivery that was no outbox row's or a resend of a row
not in flight (both should be 0).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration import crashkit  # noqa: E402


def main(argv: list[str] | None = None) -> list[crashkit.Result]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of mails acknowledged before the kill")
    parser.add_argument("--outage-seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=1, help="repeat each scenario (kill points vary by timing)")
    args = parser.parse_args(argv)
    results = []
    for _ in range(args.runs):
        results.append(crashkit.kill_9(mails=args.mails, clients=args.clients, kill_at=args.kill_at))
        results.append(crashkit.relay_outage(mails=args.mails, clients=args.clients,
                                             outage_seconds=args.outage_seconds))
    width = max(len(r.scenario) for r in results)
    print(f"{'scenario':<{width}}  " + "  ".join(f"{name.replace('_', ' '):>13}" for name in crashkit.Result.ROW)
          + "  seconds")
    for result in results:
        cells = ("-" if getattr(result, name) is None else getattr(result, name) for name in crashkit.Result.ROW)
        print(f"{result.scenario:<{width}}  " + "  ".join(f"{cell:>13}" for cell in cells)
              + f"  {result.seconds:>7.1f}")
    for result in results:
        for note in result.notes:
            print(f"  {result.scenario}: {note}")
        print(f"  {result.scenario}: {result.retried} sent after a failed attempt; {result.not_ours} deliveries "
              f"not from the outbox, {result.resent_outside_flight} resent though not in flight")
    return results


if __name__ == "__main__":
    main()
