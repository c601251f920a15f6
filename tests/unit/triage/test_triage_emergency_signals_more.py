"""Emergency signals added from the cross-validation misses fire in English, German and French, with the rule
that says so; sentences written for this test."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def decided(subject: str, body: str):
    decision, hits = prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)
    return decision.value, {h.rule for h in hits}


@pytest.mark.parametrize("rule, subject, body", [
    # the shop gives things away
    ("losing-money-any-language", "Prices", "Every item in the online store shows £0.00 and people are buying."),
    ("losing-money-any-language", "Preise", "Im Webshop stehen alle Produkte auf 0,00 €, die Kunden bestellen."),
    ("losing-money-any-language", "Prix", "Sur la boutique tous les articles affichent 0,00 € depuis midi."),
    # a link or folder that opens for anyone
    ("data-to-the-wrong-people", "Link", "The shared link to the HR folder opens without a password, with contracts."),
    ("data-to-the-wrong-people", "Link", "Der Link zum Ordner mit den Personalakten öffnet ohne Anmeldung."),
    ("data-to-the-wrong-people", "Lien", "Le lien vers le dossier des patients s'ouvre sans connexion."),
    # a German "steht" on its own: the till, the ERP has stopped
    ("service-down-any-language", "Kasse", "Die Kasse steht. Kunden warten."),
    ("service-down-any-language", "ERP STEHT - bitte anrufen", ""),
])
def test_new_emergency_signals_fire(rule, subject, body):
    value, rules = decided(subject, body)
    assert rule in rules
    assert value == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Brochure", "Please make the brochure link work without logging in? Not urgent."),
    ("Termin", "Der Termin für die Kassenschulung steht noch nicht fest, kein Stress."),
    ("Prix", "Pouvez-vous ajouter le prix à 12,00 € pour le nouvel article ?"),
])
def test_look_alikes_of_the_new_signals_stay_calm(subject, body):
    assert decided(subject, body)[0] != "urgent"
