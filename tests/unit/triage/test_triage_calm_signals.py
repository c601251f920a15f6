"""Past, planned, taught, unused and negated emergencies are not urgent; real outages in the same words are."""
from __future__ import annotations

import pytest

from gateway.config import PriorityConfig
from gateway.triage import prioritise_mail


def priority(subject: str, body: str) -> str:
    return prioritise_mail(subject, body, config=PriorityConfig(), model_dir=None)[0].value


@pytest.mark.parametrize("subject, body", [
    # over now
    ("Outage on Monday", "The web shop was offline for half an hour on Monday, it's working again since. "
                         "Could we get a post-mortem?"),
    ("Serverausfall", "Heute früh war der Dateiserver eine Stunde ausgefallen, jetzt läuft wieder alles."),
    ("Panne ce matin", "Le serveur de messagerie était en panne ce matin, le service est rétabli depuis 10h."),
    # announced and planned
    ("CRM update", "As agreed, the CRM will be offline on Sunday from 8 to 12 for the upgrade."),
    ("Update Kasse", "Wie vereinbart wird das Kassensystem am Sonntag wegen des Updates nicht verfügbar sein."),
    ("Migration", "Comme convenu, le serveur de fichiers sera arrêté samedi de 7h à 11h pour la migration."),
    # training
    ("Session", "Please book room 4 for the phishing awareness session on data leaks for all staff."),
    ("Schulung", "Wir planen eine Datenschutz-Schulung zum Thema Datenleck für die ganze Abteilung."),
    ("Formation", "Nous organisons une formation de sensibilisation aux fuites de données pour tout le service."),
    # unused or to be thrown away
    ("Old PC", "The old PC in the basement won't start. Nobody uses it, we can dispose of it."),
    ("Alter Server", "Der alte Server im Keller ist ausgefallen, er wird nicht mehr gebraucht."),
    ("Vieux serveur", "Le vieux serveur est en panne depuis un an, il n'est plus utilisé."),
    # negated
    ("Printer down", "The printer on floor 2 is down. No urgency, it can wait until Monday."),
    ("Drucker", "Der Drucker im Flur ist ausgefallen. Kein Notfall, kann warten."),
    ("Imprimante", "L'imprimante de l'accueil est hors service, pas d'urgence, ça peut attendre."),
])
def test_past_planned_taught_unused_and_negated_are_not_urgent(subject, body):
    assert priority(subject, body) != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Shop down again", "The shop came back after the restart, but it is down again now and nobody can order."),
    ("Server", "Der Server lief kurz wieder, ist aber schon wieder ausgefallen. Niemand kann arbeiten."),
    ("Site", "Le site est revenu une minute mais il est de nouveau en panne, personne ne peut commander."),
    ("Hotline", "Our customer hotline is dead since 9, callers hear nothing."),
    ("Customer list", "Our newsletter tool sent the full customer spreadsheet to all subscribers."),
    ("Kundendaten", "Die Kundendaten wurden versehentlich an einen externen Dienstleister verschickt."),
    ("Clients", "Un collègue a envoyé par erreur le fichier complet des clients à un fournisseur externe."),
    ("Laufwerk", "Das Team kommt seit dem Neustart nicht mehr an das Projektlaufwerk."),
])
def test_real_outages_in_these_words_stay_urgent(subject, body):
    assert priority(subject, body) == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("VPN", "The VPN is not working again, none of the 20 home workers can connect."),
    ("Server", "Der Dateiserver funktioniert wieder nicht, niemand kommt an seine Dateien."),
    ("Serveur", "Le serveur de fichiers n'est pas encore rétabli, personne ne peut travailler."),
])
def test_a_word_of_recovery_inside_a_current_outage_does_not_calm_it(subject, body):
    assert priority(subject, body) == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Network", "As discussed on the phone just now, the whole office has no network and nobody can work."),
    ("Netzwerk", "Wie besprochen: das Netzwerk ist ausgefallen, niemand im Büro kann arbeiten."),
    ("Réseau", "Comme convenu au téléphone, le serveur est en panne et personne ne peut travailler."),
])
def test_agreed_words_in_an_outage_report_do_not_make_it_planned(subject, body):
    assert priority(subject, body) == "urgent"
