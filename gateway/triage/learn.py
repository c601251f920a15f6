"""`gateway classifier evaluate` and `train`: score any labelled CSV; retrain from seed + /category corrections."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.config import ClassifyConfig, Settings
from gateway.errors import GatewayError
from gateway.store.db import Database
from gateway.store.models import Event, Message
from gateway.triage import classify_mail, store
from gateway.triage.linear import LinearModel
from gateway.triage.metrics import Scores, score
from gateway.triage.seed import CATEGORIES, Example, read_csv, seed_mails

HOLD_OUT_EVERY = 5  # every fifth corrected ticket (by number) is held out, as the seed set's test split is


def evaluate_csv(path: Path, *, config: ClassifyConfig, model_dir: Path | None) -> Scores:
    """The classifier as configured (rules, then model) scored on every row of a labelled CSV."""
    examples = read_csv(path)
    predicted = [classify_mail(e.subject, e.body, config=config, model_dir=model_dir)[0].value for e in examples]
    return score([e.label for e in examples], predicted, CATEGORIES)


async def corrections(session: AsyncSession) -> list[Example]:
    """Each ticket an engineer re-categorised (/category), labelled with its last correction, as the text
    of its first inbound message."""
    events = (await session.scalars(select(Event).where(Event.kind == "command_category")
                                    .order_by(Event.at, Event.id))).all()
    labels = {e.ticket_id: str((e.data or {}).get("arg") or "").lower() for e in events}
    labels = {ticket: label for ticket, label in labels.items() if label in CATEGORIES}
    if not labels:
        return []
    messages = (await session.scalars(select(Message).where(Message.ticket_id.in_(labels), Message.direction == "in")
                                      .order_by(Message.ticket_id, Message.id))).all()
    first: dict[int, Message] = {}
    for message in messages:
        first.setdefault(message.ticket_id, message)
    return [Example(subject=m.subject or "", body=m.text or "", label=labels[ticket],
                    split="test" if ticket % HOLD_OUT_EVERY == 0 else "train", source=f"ticket {ticket}")
            for ticket, m in sorted(first.items())]


def model_accuracy(model: LinearModel, examples: Sequence[Example]) -> float:
    if not examples:
        return 0.0
    return sum(model.predict(e.subject, e.body, explain=0).label == e.label for e in examples) / len(examples)


@dataclass
class TrainResult:
    accepted: bool
    trained_on: int
    held_out: int
    corrections: int
    new_accuracy: float
    old_accuracy: float
    old_model: str
    new_model: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        head = (f"trained on {self.trained_on} mails ({self.corrections} corrections); held-out {self.held_out}: "
                f"new {self.new_accuracy:.3f}, current {self.old_accuracy:.3f} ({self.old_model})")
        verdict = (f"accepted: {self.new_model}; the previous model stays next to it" if self.accepted else
                   "refused: the new model scores worse on the held-out part; the current model stays")
        return "\n".join([head, verdict, *self.notes])


def retrain(extra: Sequence[Example], *, model_dir: Path, now: datetime,
            fit: Callable[..., LinearModel] | None = None) -> TrainResult:
    """Fit on the seed train split plus the train part of `extra`; save only if no worse on the held-out part."""
    if fit is None:
        from gateway.triage.train import fit
    examples = [*seed_mails(), *extra]
    train = [e for e in examples if e.split == "train"]
    held = [e for e in examples if e.split == "test"]
    current, current_path = store.load("category", model_dir)
    new = fit(train, kind="category", meta={"data": f"seed train split + {len(extra)} corrections",
                                             "trained_at": now.isoformat()})
    result = TrainResult(accepted=False, trained_on=len(train), held_out=len(held), corrections=len(extra),
                         new_accuracy=round(model_accuracy(new, held), 4),
                         old_accuracy=round(model_accuracy(current, held), 4), old_model=current_path.name)
    if result.new_accuracy >= result.old_accuracy:
        path = store.version_path(model_dir, "category", now)
        new.save(path)
        result.accepted, result.new_model = True, str(path)
    return result


async def train_from_desk(db: Database, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """The nightly job and `gateway jobs run classifier`: read the corrections, retrain on a worker thread."""
    async with db.transaction() as session:
        found = await corrections(session)
    try:
        result = await asyncio.to_thread(retrain, found, model_dir=settings.resolve_path(settings.classify.model_dir),
                                         now=now)
    except GatewayError as exc:  # e.g. scikit-learn not installed: say so, keep the model in use
        return {"accepted": False, "summary": str(exc)}
    return {**result.as_dict(), "summary": result.summary().replace("\n", "; ")}
