"""The emergency model overruling the built-in signals (signals_overruled_below), off by default; the calm
training mails of emergencies_calm.csv."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig, RuleConfig
from gateway.triage import prioritise_mail
from gateway.triage.seed import seed_emergencies


def priority(subject: str, body: str, **config):
    return prioritise_mail(subject, body, config=PriorityConfig(**config), model_dir=None)[0]


# Calm mails that only a built-in signal calls urgent (none of them is a training mail).
CALM = [
    ("Serveur de recette", "Le serveur de recette est hors ligne depuis lundi, on n'en a besoin qu'en septembre."),
    ("Home", "My home internet is offline so I'm working from the office today."),
    ("Crash course", "Is there a crash course on the CRM for all staff starting next month?"),
]


@pytest.mark.parametrize("subject, body", CALM)
def test_the_model_overrules_signals_on_calm_mail_when_asked(subject, body):
    assert priority(subject, body).value == "urgent"  # the default: the signals stand
    decision = priority(subject, body, signals_overruled_below=0.15)
    assert decision.value == "medium"
    assert decision.stage == "model"
    assert "overruled: the model reads it as calm" in decision.sentence()


@pytest.mark.parametrize("subject, body", [
    ("Site", "Le site est en panne pour tout le monde, plus aucune commande depuis 10h."),
    ("ERP", "Das ERP ist seit 8 Uhr für alle Mitarbeiter nicht erreichbar, das Lager steht still."),
    # the outage is in a stretch no calm word speaks for: the model reads that stretch, not the calm one
    ("Netzwerk", "Der Drucker funktioniert wieder, aber jetzt ist das Netzwerk für alle ausgefallen."),
])
def test_emergencies_stay_urgent_with_overruling_on(subject, body):
    assert priority(subject, body, signals_overruled_below=0.15).value == "urgent"


def test_an_operators_rule_is_never_overruled():
    rule = RuleConfig(name="recette", value="urgent", weight=3.0, pattern=r"recette")
    subject, body = CALM[0]
    decision = priority(subject, body, signals_overruled_below=0.99, rules=(rule,))
    assert decision.value == "urgent"
    assert "recette" in decision.rules


def test_the_calm_training_mails_are_read_in_three_languages():
    calm = [e for e in seed_emergencies() if e.source == "emergencies_calm.csv"]
    assert {e.split for e in calm} == {"train"}
    for language in ("en", "de", "fr"):
        mine = [e for e in calm if e.language == language]
        assert sum(e.label == "0" for e in mine) == 24 and sum(e.label == "1" for e in mine) == 6
