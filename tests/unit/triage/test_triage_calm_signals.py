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


# A calm word speaks for its own stretch of the mail (and the one it turns from), never for an outage
# told after "but" / "aber" / "mais" or after a turn to "now": one row per calm signal and language.
@pytest.mark.parametrize("subject, body", [
    # over-now
    ("Network", "The printer has been fixed, but now the network is down for everyone."),
    ("Netzwerk", "Der Drucker funktioniert wieder, aber jetzt ist das Netzwerk für alle ausgefallen."),
    ("Réseau", "L'imprimante a été rétablie, mais maintenant le réseau est en panne pour tout le monde."),
    # unused
    ("Shop", "The old kiosk PC is not in use any more. However, the web shop is offline and nobody can order."),
    ("Shop", "Der alte Kiosk-PC wird nicht mehr gebraucht. Aber der Webshop ist offline, niemand kann bestellen."),
    ("Boutique", "Le vieux PC n'est plus utilisé. Par contre la boutique est hors ligne, personne ne peut commander."),
    # planned
    ("ERP", "The CRM will be offline on Sunday for maintenance. Today the ERP is down for all users."),
    ("ERP", "Das CRM ist am Sonntag wegen Wartung offline. Heute ist das ERP für alle Benutzer ausgefallen."),
    ("ERP", "Le CRM sera indisponible dimanche pour maintenance. Aujourd'hui l'ERP est en panne, personne ne peut "
            "travailler."),
    # exercise
    ("Mail", "Thanks for the phishing awareness session last week. But the mail server is down, nobody can send."),
    ("Mail", "Danke für die Phishing-Schulung letzte Woche. Aber der Mailserver ist ausgefallen, niemand kann senden."),
    ("Messagerie", "Merci pour la formation de sensibilisation. Mais la messagerie est en panne, personne ne peut "
                   "envoyer."),
    # not-urgent
    ("Two things", "My mouse is a bit slow, not urgent. But the file server crashed."),
    ("Zwei Dinge", "Meine Maus ist langsam, nicht dringend. Aber der Dateiserver ist abgestürzt, niemand kommt an "
                   "die Laufwerke."),
    ("Deux choses", "Ma souris est lente, pas urgent. Mais le serveur de fichiers est en panne."),
])
def test_a_calm_word_does_not_calm_an_outage_told_after_it(subject, body):
    assert priority(subject, body) == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Mail outage", "The mail server was down this morning but came back after the restart. Anything to do?"),
    ("Mailausfall", "Der Mailserver war heute früh ausgefallen, aber seitdem läuft wieder alles. Müssen wir was tun?"),
    ("Panne", "La messagerie était en panne ce matin, mais elle fonctionne de nouveau. Faut-il faire quelque chose ?"),
    ("Test shop", "The test shop is offline, but nobody is using it this week."),
    ("Testshop", "Der Testshop ist offline, aber niemand nutzt ihn diese Woche."),
    ("Boutique de test", "La boutique de test est hors ligne, mais elle n'est plus utilisée."),
])
def test_a_calm_word_after_but_still_calms_the_outage_it_turns_from(subject, body):
    assert priority(subject, body) != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Backups", "If the server crashed, would we lose data?"),
    ("Question", "Just wondering: if the shop went offline during the sale, who would we call?"),
    ("Continuity", "What happens if the network is down for everyone on a Monday?"),
    ("Datensicherung", "Falls der Server ausgefallen ist, verlieren wir dann Daten?"),
    ("Frage", "Was passiert eigentlich, wenn das Netzwerk für alle ausgefallen ist?"),
    ("Sauvegarde", "Si le serveur plantait, perdrait-on des données ?"),
    ("Question", "Que se passe-t-il si la messagerie est en panne pour tout le monde ?"),
    ("What if the ERP is down for everyone?", "For our continuity plan."),
    # something asked for in case it happens
    ("UPS", "Could we get a second UPS for the server room in case of a power failure?"),
    ("USV", "Können wir eine zweite USV bestellen, für den Fall, dass es einen Stromausfall im Serverraum gibt?"),
    ("Onduleur", "Pourrait-on avoir un second onduleur au cas où il y aurait une coupure de courant dans la salle "
                 "serveur ?"),
])
def test_what_if_questions_are_no_outage(subject, body):
    assert priority(subject, body) != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Kurze Frage", "Was passiert eigentlich, wenn der Kassenserver für alle ausgefallen ist?"),
    ("Kurze Frage", "Falls der Server im Lager ausfällt, wie lange dauert die Wiederherstellung?"),
    ("Kurze Frage", ""),  # nothing written under it (the question in an attachment, say)
])
def test_a_mail_with_no_body_to_read_is_not_raised_for_its_subject(subject, body):
    # with nothing of the body left (a what-if set aside, or none written) the model would read the subject
    # alone, and understated emergencies in its training mail open with "Kurze Frage" (0.81 for that subject
    # alone with shipped-13)
    assert priority(subject, body) != "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Shop", "The shop is offline since 9 and nobody can order. If it stays like this, should we call the host?"),
    ("Server", "Der Dateiserver ist abgestürzt, niemand kommt an die Laufwerke. Falls das länger dauert, sollen "
               "wir heimgehen?"),
    ("Serveur", "Le serveur de fichiers est en panne pour tout le monde. Si ça dure, faut-il prévenir les clients ?"),
    ("Not sure", "Not sure if the server crashed, but the website is not loading for anyone."),
    ("Mail", "The mail server is down for everyone. Can you call me in case it takes longer?"),
])
def test_a_what_if_next_to_an_outage_leaves_the_outage_urgent(subject, body):
    assert priority(subject, body) == "urgent"


@pytest.mark.parametrize("subject, body", [
    ("Outage", "The shop was down yesterday, it's fine again. I still need the report for the board."),
    ("Ausfall", "Der Shop war gestern offline, jetzt läuft wieder alles. Ich brauche immer noch den Bericht."),
    ("Panne", "Le site était hors ligne hier, il fonctionne de nouveau. J'attends toujours le rapport."),
])
def test_still_alone_does_not_undo_a_recovery(subject, body):
    assert priority(subject, body) != "urgent"
