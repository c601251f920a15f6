"""Rebuild the models shipped in gateway/triage/models/ from the seed set's train split (needs scikit-learn)."""
from __future__ import annotations

from gateway.triage.linear import LinearModel
from gateway.triage.seed import seed_emergencies, seed_mails
from gateway.triage.store import shipped_path
from gateway.triage.train import fit


def main() -> None:
    for kind, examples in (("category", seed_mails()), ("emergency", seed_emergencies())):
        train = [e for e in examples if e.split == "train"]
        model: LinearModel = fit(train, kind=kind, meta={"data": "gateway/triage/seed, train split",
                                                         "version": "shipped-1"})
        model.save(shipped_path(kind))
        print(f"{kind}: {len(train)} mails, {shipped_path(kind)} {shipped_path(kind).stat().st_size} bytes")


if __name__ == "__main__":
    main()
