"""Triage of new mail: category and priority by rules, then a shipped learned model; every decision explained."""
from __future__ import annotations

from pathlib import Path

from gateway.config import ClassifyConfig, PriorityConfig, Settings
from gateway.pipeline.context import Hit
from gateway.triage import store
from gateway.triage.decide import Decision, Triage, classify, prioritise, triage

__all__ = ["Decision", "Triage", "classify_mail", "prioritise_mail", "triage", "triage_mail", "explain"]


def classify_mail(subject: str, text: str, *, config: ClassifyConfig,
                  model_dir: Path | None) -> tuple[Decision, list[Hit]]:
    """The category decision for a new mail; blocking CPU work, so call it from a worker thread."""
    model = store.load("category", model_dir)[0] if config.use_model else None
    return classify(subject, text, config=config, model=model)


def prioritise_mail(subject: str, text: str, *, config: PriorityConfig, model_dir: Path | None,
                    header: Hit | None = None) -> tuple[Decision, list[Hit]]:
    """The priority decision for a new mail; blocking CPU work, so call it from a worker thread."""
    model = store.load("emergency", model_dir)[0] if config.use_model else None
    return prioritise(subject, text, config=config, model=model, header=header)


def triage_mail(subject: str, text: str, *, settings: Settings, header: Hit | None = None) -> Triage:
    """Category and priority of a new mail with settings' models; pure and thread-safe (a worker thread's job).

    triage_mail("Files", "The file server crashed.", settings=s).priority.sentence()
        -> 'priority urgent by the rules (service-down-any-language matched "server crashed.")'
    """
    model_dir = settings.resolve_path(settings.classify.model_dir)
    category, category_hits = classify_mail(subject, text, config=settings.classify, model_dir=model_dir)
    priority, priority_hits = prioritise_mail(subject, text, config=settings.priority, model_dir=model_dir,
                                              header=header)
    return Triage(category=category, priority=priority, hits=tuple(category_hits + priority_hits))


def explain(decisions: list[Decision], hits: list[Hit]) -> list[str]:
    """Lines for people: each decision's sentence, then the rule hits it did not already cite."""
    cited = {rule for d in decisions for rule in d.rules}
    return [d.sentence() for d in decisions] + [f"{h.rule} → {h.value} ({h.detail})" for h in hits
                                                if h.rule not in cited]
