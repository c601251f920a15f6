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
    # the power gone where the servers are, or for a whole site
    ("power-failure", "Server room", "Power failure in the server room, all the racks are dark."),
    ("power-failure", "Strom", "Stromausfall im Rechenzentrum, seit zehn Minuten läuft nichts."),
    ("power-failure", "Courant", "Coupure de courant dans la salle serveur, tout est éteint."),
    ("power-failure", "Lager", "Im ganzen Lager ist seit 7 Uhr der Strom weg."),
    # no site, a whole place stopped, everyone refused
    ("everyone-affected", "Cartes", "Le paiement par carte ne marche dans aucun magasin depuis ce matin."),
    ("everyone-affected", "Karten", "Die Kartenzahlung geht in keiner Filiale mehr."),
    ("standstill", "Versand", "Im Versand steht alles, seit 9 Uhr kommt kein Etikett aus dem Drucker."),
    ("everyone-affected", "Ablage", "Seit heute früh kommt bei allen im Vertrieb nur Zugriff verweigert."),
])
def test_new_emergency_signals_fire(rule, subject, body):
    value, rules = decided(subject, body)
    assert rule in rules
    assert value == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Brochure", "Please make the brochure link work without logging in? Not urgent."),
    ("Termin", "Der Termin für die Kassenschulung steht noch nicht fest, kein Stress."),
    ("Prix", "Pouvez-vous ajouter le prix à 12,00 € pour le nouvel article ?"),
    ("Power", "The power will be off on Saturday in the server room for maintenance."),
    ("Strom", "Am Samstag wird der Strom im Serverraum abgeschaltet, bitte vorher alles sichern."),
    ("Home office", "Power cut at home this morning, so I will work from the office tomorrow."),
    ("Cette nuit", "Cette nuit, coupure de courant dans la salle serveur. Tout fonctionne à nouveau normalement."),
    ("Handbuch", "Im Handbuch steht alles, danke für den Link!"),
])
def test_look_alikes_of_the_new_signals_stay_calm(subject, body):
    assert decided(subject, body)[0] != "urgent"
